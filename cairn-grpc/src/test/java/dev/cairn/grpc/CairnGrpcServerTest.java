package dev.cairn.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gRPC server over a real socket: message limits and the per-call metrics. */
class CairnGrpcServerTest {
  @TempDir Path dir;
  private DiskBlobStore store;
  private CairnGrpcServer server;
  private ManagedChannel channel;
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

  @BeforeEach
  void start() throws IOException {
    store = DiskBlobStore.open(DiskStoreConfig.at(dir.resolve("store")));
    Backends backends = new Backends(Map.<DigestFunction, BlobStore>of(DigestFunction.SHA256, store),
        Map.of(DigestFunction.SHA256, new CompletenessCheckingActionCache(
            new DiskActionCache(dir.resolve("store"), store), store)));
    UploadArea uploads = new UploadArea(dir.resolve("uploads"), Duration.ofHours(1), Clock.systemUTC());
    // The default batch limit (4 MiB), as `cairn serve` starts.
    server = new CairnGrpcServer(
        new CairnGrpcServer.Config(new InetSocketAddress("127.0.0.1", 0), 4L << 20, Duration.ofSeconds(5)),
        backends, uploads, List.of(), registry);
    server.start();
    channel = NettyChannelBuilder.forAddress(server.address()).usePlaintext()
        .maxInboundMessageSize(16 << 20) // the answer lists ~100,000 digests too
        .build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow();
    server.close();
    store.close();
  }

  @Test
  void findMissingOf100kDigests_isOneCallUnderTheDefaultLimits() throws IOException {
    List<Digest> present = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      present.add(store.put(ByteBuffer.allocate(8).putLong(i).array()));
    }
    FindMissingBlobsRequest.Builder request = FindMissingBlobsRequest.newBuilder();
    Set<build.bazel.remote.execution.v2.Digest> absent = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      if (i % 200 == 0) {
        request.addBlobDigests(present.get(i / 200).toProto());
      } else {
        var d = DigestFunction.SHA256.digestOf(ByteBuffer.allocate(8).putLong(-1 - i).array()).toProto();
        request.addBlobDigests(d);
        absent.add(d);
      }
    }
    assertThat(request.build().getSerializedSize()).isGreaterThan(5 << 20);

    FindMissingBlobsResponse response =
        ContentAddressableStorageGrpc.newBlockingStub(channel).findMissingBlobs(request.build());

    assertThat(response.getMissingBlobDigestsCount()).isEqualTo(absent.size());
    assertThat(new HashSet<>(response.getMissingBlobDigestsList())).isEqualTo(absent);
    Timer timer = registry.find("cairn.grpc.requests")
        .tags("method", "ContentAddressableStorage/FindMissingBlobs", "code", "OK").timer();
    assertThat(timer).isNotNull();
    assertThat(timer.count()).isEqualTo(1);
    assertThat(timer.totalTime(java.util.concurrent.TimeUnit.NANOSECONDS)).isPositive();
  }

  @Test
  void aRequestOverTheLimit_isRefused_andAFailedCallIsCountedByItsCode() {
    FindMissingBlobsRequest.Builder huge = FindMissingBlobsRequest.newBuilder();
    var d = DigestFunction.SHA256.digestOf(new byte[] {1}).toProto();
    while (huge.getBlobDigestsCount() * (long) d.getSerializedSize() < 17L << 20) {
      huge.addBlobDigests(d);
    }
    var stub = ContentAddressableStorageGrpc.newBlockingStub(channel);
    assertThatThrownBy(() -> stub.findMissingBlobs(huge.build()))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("RESOURCE_EXHAUSTED");

    var bad = FindMissingBlobsRequest.newBuilder()
        .addBlobDigests(build.bazel.remote.execution.v2.Digest.newBuilder().setHash("nothex").setSizeBytes(1))
        .build();
    assertThatThrownBy(() -> stub.findMissingBlobs(bad))
        .isInstanceOf(StatusRuntimeException.class)
        .hasMessageContaining("INVALID_ARGUMENT");
    Timer invalid = registry.find("cairn.grpc.requests")
        .tags("method", "ContentAddressableStorage/FindMissingBlobs", "code", "INVALID_ARGUMENT").timer();
    assertThat(invalid).isNotNull();
    assertThat(invalid.count()).isEqualTo(1);
  }

  @Test
  void shortName_dropsThePackage() {
    assertThat(GrpcMetrics.shortName("google.bytestream.ByteStream/Write")).isEqualTo("ByteStream/Write");
    assertThat(GrpcMetrics.shortName("Plain/Call")).isEqualTo("Plain/Call");
  }
}
