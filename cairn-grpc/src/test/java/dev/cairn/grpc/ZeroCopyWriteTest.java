package dev.cairn.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.buffer.PoolArenaMetric;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * ByteStream Write over a real Netty server: uploads take the zero-copy parse (data left in
 * Netty's pooled direct buffers), still store exactly the right bytes, and give every buffer
 * back, whether the upload finished, failed or was cancelled.
 */
class ZeroCopyWriteTest {
  private static final int MIB = 1 << 20;
  /** Tags a test whose store holds at most 24 MiB. */
  private static final String SMALL_STORE = "small-store";

  @TempDir Path dir;
  private DiskBlobStore store;
  private UploadArea uploads;
  private ByteStreamService bytestream;
  private ExecutorService executor;
  private Server server;
  private ManagedChannel channel;
  private ResourceLeakDetector.Level leakLevel;
  /**
   * The server's buffers, without thread caches, so that its count of live allocations drops to
   * zero exactly when every buffer has been released.
   */
  private final PooledByteBufAllocator allocator =
      new PooledByteBufAllocator(true, 1, 1, 8192, 9, 0, 0, false);

  @BeforeEach
  void start(TestInfo test) throws IOException {
    leakLevel = ResourceLeakDetector.getLevel();
    ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    DiskStoreConfig storeConfig = DiskStoreConfig.at(dir.resolve("store"));
    store = DiskBlobStore.open(test.getTags().contains(SMALL_STORE)
        ? storeConfig.withMaxSize(24L * MIB) : storeConfig);
    Backends backends = new Backends(Map.<DigestFunction, BlobStore>of(DigestFunction.SHA256, store),
        Map.of(DigestFunction.SHA256, new CompletenessCheckingActionCache(
            new DiskActionCache(dir.resolve("store"), store), store)));
    uploads = new UploadArea(dir.resolve("uploads"), Duration.ofHours(1), Clock.systemUTC());
    CairnGrpcServer.Config config =
        new CairnGrpcServer.Config(new InetSocketAddress("127.0.0.1", 0), 4L << 20, Duration.ofSeconds(5));
    // The same services `cairn serve` binds, on a Netty server whose allocator the test can read.
    List<BindableService> services = CairnGrpcServer.services(config, backends, uploads, true);
    bytestream = services.stream().filter(ByteStreamService.class::isInstance)
        .map(ByteStreamService.class::cast).findFirst().orElseThrow();
    executor = Executors.newVirtualThreadPerTaskExecutor();
    NettyServerBuilder builder = NettyServerBuilder.forAddress(config.listen())
        .executor(executor)
        .maxInboundMessageSize(CairnGrpcServer.maxInboundMessageSize(config))
        .withChildOption(ChannelOption.ALLOCATOR, allocator);
    services.forEach(builder::addService);
    server = builder.build().start();
    channel = NettyChannelBuilder.forAddress((InetSocketAddress) server.getListenSockets().getFirst())
        .usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    try {
      shutDown();
      store.close();
    } finally {
      ResourceLeakDetector.setLevel(leakLevel);
    }
  }

  private void shutDown() throws InterruptedException {
    if (!channel.isShutdown()) {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      executor.shutdownNow();
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static String resource(Digest d, String uploadId) {
    return "uploads/" + uploadId + "/blobs/" + d.hash() + "/" + d.sizeBytes();
  }

  private StreamObserver<WriteRequest> openWrite(CompletableFuture<WriteResponse> result) {
    return ByteStreamCalls.openWrite(ByteStreamGrpc.newStub(channel), result);
  }

  /** Sends data in chunks of chunkSize; cancels the call after cancelAfter chunks (if >= 0). */
  private CompletableFuture<WriteResponse> upload(String name, byte[] data, int chunkSize, int cancelAfter) {
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests = openWrite(result);
    int sent = 0;
    for (int off = 0; off < data.length; off += chunkSize, sent++) {
      if (sent == cancelAfter) {
        requests.onError(Status.CANCELLED.withDescription("test cancels").asRuntimeException());
        result.completeExceptionally(new IllegalStateException("cancelled by the test"));
        return result;
      }
      int end = Math.min(data.length, off + chunkSize);
      WriteRequest.Builder m = WriteRequest.newBuilder().setWriteOffset(off)
          .setData(ByteString.copyFrom(data, off, end - off)).setFinishWrite(end == data.length);
      if (off == 0) {
        m.setResourceName(name);
      }
      requests.onNext(m.build());
    }
    requests.onCompleted();
    return result;
  }

  private static WriteResponse await(CompletableFuture<WriteResponse> call) throws Exception {
    try {
      return call.get(60, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private long liveServerBuffers() {
    long live = 0;
    for (PoolArenaMetric arena : allocator.metric().directArenas()) {
      live += arena.numActiveAllocations();
    }
    for (PoolArenaMetric arena : allocator.metric().heapArenas()) {
      live += arena.numActiveAllocations();
    }
    return live;
  }

  @Test
  void multiChunkUpload_overNetty_isParsedWithoutCopying_andStoresTheExactBytes() throws Exception {
    byte[] data = random(24 * MIB + 12_345, 1);
    Digest d = DigestFunction.SHA256.digestOf(data);

    WriteResponse response = await(upload(resource(d, "zc-1"), data, MIB, -1));

    assertThat(response.getCommittedSize()).isEqualTo(data.length);
    assertThat(store.get(d)).isEqualTo(data);
    // The messages were parsed as views of Netty's buffers. grpc 1.85 merges runs of small
    // (< 1 KiB) transport buffers into an array it cannot show as a ByteBuffer; a message that
    // holds such a run (about 1 in 100 here) is parsed by copying, so "most", not "all".
    WriteRequestMarshaller parser = bytestream.writeMarshaller();
    assertThat(parser.aliasedMessages() + parser.copiedMessages()).isEqualTo(25);
    assertThat(parser.aliasedMessages()).isGreaterThanOrEqualTo(20);
    assertThat(parser.aliasedDataBytes()).isGreaterThanOrEqualTo(20L * MIB);
  }


  /** Fills the 24 MiB store with 20 blobs of 1 MiB, oldest first. */
  private List<Digest> fillStore() throws IOException {
    List<Digest> old = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      old.add(store.put(random(MIB, 100 + i)));
    }
    return old;
  }

  private void awaitEvictions(long count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (store.stats().evictions() < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
  }

  @Test
  @Tag(SMALL_STORE)
  void uploadIntoAFullStore_evictsAsItsBytesArrive_notOnlyWhenStored() throws Exception {
    // A bounded store at its limit makes room while a large upload arrives, so that the upload's
    // pages reuse the memory of the files just deleted (2x the upload rate on this VM).
    List<Digest> old = fillStore();
    byte[] data = random(12 * MIB, 3);
    Digest d = DigestFunction.SHA256.digestOf(data);
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests = openWrite(result);
    requests.onNext(WriteRequest.newBuilder().setResourceName(resource(d, "full-1"))
        .setData(ByteString.copyFrom(data, 0, MIB)).build());
    awaitEvictions(5); // room for what arrived and one 8 MiB step: 9 of 24 MiB
    assertThat(result).isNotDone();
    assertThat(store.stats().evictions()).as("evicted before the upload finished").isEqualTo(5);
    assertThat(store.findMissing(old)).containsExactlyInAnyOrderElementsOf(old.subList(0, 5));

    for (int off = MIB; off < data.length; off += MIB) {
      requests.onNext(WriteRequest.newBuilder().setWriteOffset(off)
          .setData(ByteString.copyFrom(data, off, MIB)).setFinishWrite(off + MIB == data.length)
          .build());
    }
    requests.onCompleted();

    assertThat(await(result).getCommittedSize()).isEqualTo(data.length);
    assertThat(store.get(d)).isEqualTo(data);
    assertThat(store.findMissing(old)).containsExactlyInAnyOrderElementsOf(old.subList(0, 8));
    assertThat(store.stats().bytesUsed()).isEqualTo(24L * MIB);
  }

  @Test
  @Tag(SMALL_STORE)
  void uploadThatClaimsAHugeSize_evictsNoMoreThanItSentAndOneStep() throws Exception {
    // The size in the resource name is only a claim: a stream that names a 20 MiB blob, sends
    // 1 MiB and leaves must not have emptied the store.
    List<Digest> old = fillStore();
    Digest claimed = new Digest("ab".repeat(32), 20L * MIB);
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests = openWrite(result);
    requests.onNext(WriteRequest.newBuilder().setResourceName(resource(claimed, "liar-1"))
        .setData(ByteString.copyFrom(random(MIB, 4))).build());
    awaitEvictions(5);
    requests.onError(Status.CANCELLED.withDescription("test leaves").asRuntimeException());
    Thread.sleep(200); // let a wrong extra eviction show, if one were coming

    assertThat(store.stats().evictions()).isEqualTo(5);
    assertThat(store.findMissing(old)).containsExactlyInAnyOrderElementsOf(old.subList(0, 5));
  }

  @Test
  void reads_overNetty_reuseOneChunkArray_andStillSendEveryByteRight() throws Exception {
    // On a socket transport a Read reuses one array for all its chunks: safe only because the
    // transport copies each message out before onNext returns. Were that ever not so, chunks
    // would arrive overwritten by later ones, which these reads would see.
    byte[] data = random(5 * MIB + 4321, 7);
    Digest d = store.put(data);
    ByteStreamGrpc.ByteStreamBlockingStub reader = ByteStreamGrpc.newBlockingStub(channel);
    for (long[] range : new long[][] {{0, 0}, {12_345, 0}, {MIB - 1, 3 * MIB}, {data.length, 0}}) {
      byte[] got = ByteStreamCalls.readAll(reader, "blobs/" + d.hash() + "/" + d.sizeBytes(),
          range[0], range[1]);
      int end = range[1] == 0 ? data.length : (int) Math.min(data.length, range[0] + range[1]);
      assertThat(got).as("offset %d limit %d", range[0], range[1])
          .isEqualTo(java.util.Arrays.copyOfRange(data, (int) range[0], end));
    }
  }

  @Test
  void uploadInManySmallMessages_askedForInBatches_storesTheExactBytes() throws Exception {
    // 4 KiB messages (Bazel sends 16 KiB): the upload asks for dozens at a time, then one at a
    // time once a large message came; every byte still lands in order.
    byte[] small = random(2 * MIB, 11);
    Digest d = DigestFunction.SHA256.digestOf(small);
    assertThat(await(upload(resource(d, "small-1"), small, 4096, -1)).getCommittedSize())
        .isEqualTo(small.length);
    assertThat(store.get(d)).isEqualTo(small);

    byte[] mixed = random(3 * MIB, 12);
    Digest m = DigestFunction.SHA256.digestOf(mixed);
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests = openWrite(result);
    int[] sizes = {0, 1000, 4096, 4096, MIB, 17, MIB, 4096};
    int off = 0;
    for (int i = 0; off < mixed.length; i++) {
      int n = Math.min(i < sizes.length ? sizes[i] : 64 * 1024, mixed.length - off);
      WriteRequest.Builder b = WriteRequest.newBuilder().setWriteOffset(off)
          .setData(ByteString.copyFrom(mixed, off, n)).setFinishWrite(off + n == mixed.length);
      if (i == 0) {
        b.setResourceName(resource(m, "mixed-1"));
      }
      requests.onNext(b.build());
      off += n;
    }
    requests.onCompleted();
    assertThat(await(result).getCommittedSize()).isEqualTo(mixed.length);
    assertThat(store.get(m)).isEqualTo(mixed);
  }

  @Test
  void corruptedMultiChunkUpload_overNetty_isRejected_andStoresNothing() throws Exception {
    byte[] data = random(8 * MIB, 2);
    Digest d = DigestFunction.SHA256.digestOf(data);
    byte[] corrupted = data.clone();
    corrupted[5 * MIB + 77] ^= 0x10; // one bit, deep inside the 6th message

    assertThatThrownBy(() -> await(upload(resource(d, "zc-2"), corrupted, MIB, -1)))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("digest mismatch");
        });
    assertThat(store.contains(d)).isFalse();
    assertThat(bytestream.writeMarshaller().aliasedMessages()).isGreaterThanOrEqualTo(6);

    // The right bytes are still accepted afterwards.
    assertThat(await(upload(resource(d, "zc-2"), data, MIB, -1)).getCommittedSize()).isEqualTo(data.length);
    assertThat(store.get(d)).isEqualTo(data);
  }

  @Test
  void manyUploads_finishedFailedAndCancelled_releaseEveryTransportBuffer() throws Exception {
    for (int i = 0; i < 12; i++) {
      byte[] data = random(3 * MIB + i * 1000, 100 + i);
      Digest d = DigestFunction.SHA256.digestOf(data);
      String name = resource(d, "leak-" + i);
      switch (i % 4) {
        case 0 -> assertThat(await(upload(name, data, 256 * 1024, -1)).getCommittedSize())
            .isEqualTo(data.length);
        case 1 -> {
          // Cancelled halfway: the server keeps what arrived, as for a resumable upload.
          assertThatThrownBy(() -> await(upload(name, data, 256 * 1024, 6)))
              .hasMessageContaining("cancelled by the test");
        }
        case 2 -> {
          byte[] wrong = data.clone();
          wrong[wrong.length - 1] ^= 1;
          assertThatThrownBy(() -> await(upload(name, wrong, 512 * 1024, -1)))
              .hasMessageContaining("digest mismatch");
        }
        default -> {
          // A blob that exists already: answered at the first message, the rest ignored.
          store.put(data);
          assertThat(await(upload(name, data, 256 * 1024, -1)).getCommittedSize())
              .isEqualTo(data.length);
        }
      }
    }
    // Several uploads at once, two of them cancelled.
    List<CompletableFuture<WriteResponse>> calls = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      byte[] data = random(2 * MIB, 200 + i);
      calls.add(upload(resource(DigestFunction.SHA256.digestOf(data), "many-" + i), data, 128 * 1024,
          i % 3 == 0 ? 5 : -1));
    }
    for (int i = 0; i < calls.size(); i++) {
      if (i % 3 != 0) {
        assertThat(await(calls.get(i)).getCommittedSize()).isEqualTo(2 * MIB);
      }
    }
    assertThat(bytestream.writeMarshaller().aliasedMessages()).isGreaterThan(50);

    // Cancelled calls end on the server asynchronously; once both ends are shut down, no
    // buffer of the server may still be allocated.
    shutDown();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (liveServerBuffers() != 0 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(liveServerBuffers()).as("server buffers still allocated").isZero();
  }
}
