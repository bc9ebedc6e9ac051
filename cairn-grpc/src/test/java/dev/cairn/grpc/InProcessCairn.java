package dev.cairn.grpc;

import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;

/** A real Cairn gRPC service stack over real disk stores, on an in-process transport. */
final class InProcessCairn implements AutoCloseable {
  final DiskBlobStore sha256;
  final DiskBlobStore blake3;
  final UploadArea uploads;
  final Server server;
  final ManagedChannel channel;
  final CairnGrpcServer.Config config;

  InProcessCairn(Path root) throws IOException {
    sha256 = DiskBlobStore.open(DiskStoreConfig.at(root));
    blake3 = DiskBlobStore.open(DiskStoreConfig.at(root).withDigestFunction(DigestFunction.BLAKE3));
    ActionCache ac = new CompletenessCheckingActionCache(new DiskActionCache(root, sha256), sha256);
    Backends backends = new Backends(
        Map.<DigestFunction, BlobStore>of(DigestFunction.SHA256, sha256, DigestFunction.BLAKE3, blake3),
        Map.of(DigestFunction.SHA256, ac));
    uploads = new UploadArea(root.resolve("uploads"), Duration.ofHours(1), Clock.systemUTC());
    config = new CairnGrpcServer.Config(null, 4L << 20, Duration.ofSeconds(5));
    String name = InProcessServerBuilder.generateName();
    InProcessServerBuilder builder = InProcessServerBuilder.forName(name)
        .executor(Executors.newVirtualThreadPerTaskExecutor())
        .maxInboundMessageSize(CairnGrpcServer.maxInboundMessageSize(config));
    CairnGrpcServer.services(config, backends, uploads).forEach(builder::addService);
    server = builder.build().start();
    channel = InProcessChannelBuilder.forName(name).maxInboundMessageSize(64 << 20).build();
  }

  @Override
  public void close() throws IOException {
    channel.shutdownNow();
    server.shutdownNow();
    sha256.close();
    blake3.close();
  }
}
