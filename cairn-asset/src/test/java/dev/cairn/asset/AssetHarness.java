package dev.cairn.asset;

import build.bazel.remote.asset.v1.FetchGrpc;
import build.bazel.remote.asset.v1.PushGrpc;
import dev.cairn.asset.grpc.FetchService;
import dev.cairn.asset.grpc.PushService;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;
import java.util.concurrent.Executors;

/**
 * The real asset stack for tests: a disk CAS and a disk asset index under one root, the resolver
 * and the Fetch/Push gRPC services on an in-process server, with a clock the test moves.
 */
final class AssetHarness implements AutoCloseable {
  /** A clock tests set by hand. */
  static final class MutableClock implements InstantSource {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public Instant instant() {
      return now;
    }

    void advance(java.time.Duration d) {
      now = now.plus(d);
    }
  }

  final Path root;
  final MutableClock clock;
  final DiskBlobStore cas;
  final AssetIndex index;
  final AssetResolver resolver;
  final Server server;
  final ManagedChannel channel;
  final FetchGrpc.FetchBlockingStub fetch;
  final PushGrpc.PushBlockingStub push;

  AssetHarness(Path root, AssetConfig config, MutableClock clock) throws IOException {
    this(root, config, clock, new PublicAddressPolicy(config.allowPrivate()));
  }

  AssetHarness(Path root, AssetConfig config, MutableClock clock, OriginPolicy policy) throws IOException {
    this.root = root;
    this.clock = clock;
    this.cas = DiskBlobStore.open(DiskStoreConfig.at(root.resolve("store")));
    this.index = AssetIndex.open(root.resolve("store/asset/index"), clock, config.maxIndexEntries());
    this.resolver = new AssetResolver(Map.<DigestFunction, BlobStore>of(DigestFunction.SHA256, cas), index,
        config, policy, root.resolve("store/asset/work"), clock);
    String name = InProcessServerBuilder.generateName();
    this.server = InProcessServerBuilder.forName(name)
        .executor(Executors.newVirtualThreadPerTaskExecutor())
        .addService(new FetchService(resolver))
        .addService(new PushService(resolver))
        .build().start();
    this.channel = InProcessChannelBuilder.forName(name).build();
    this.fetch = FetchGrpc.newBlockingStub(channel);
    this.push = PushGrpc.newBlockingStub(channel);
  }

  static AssetConfig allowPrivate() {
    return AssetConfig.defaults().withAllowPrivate(true);
  }

  @Override
  public void close() throws IOException {
    channel.shutdownNow();
    server.shutdownNow();
    resolver.close();
    cas.close();
  }
}
