package dev.cairn.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.github.luben.zstd.Zstd;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every service through its wire API, with the error paths a hostile or buggy client takes. */
class ServicesTest {
  @TempDir Path dir;
  private InProcessCairn cairn;
  private ByteStreamGrpc.ByteStreamBlockingStub bytestream;
  private ByteStreamGrpc.ByteStreamStub bytestreamAsync;
  private ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;
  private ActionCacheGrpc.ActionCacheBlockingStub ac;

  @BeforeEach
  void start() throws IOException {
    cairn = new InProcessCairn(dir);
    bytestream = ByteStreamGrpc.newBlockingStub(cairn.channel);
    bytestreamAsync = ByteStreamGrpc.newStub(cairn.channel);
    cas = ContentAddressableStorageGrpc.newBlockingStub(cairn.channel);
    ac = ActionCacheGrpc.newBlockingStub(cairn.channel);
  }

  @AfterEach
  void stop() throws IOException {
    cairn.close();
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static Digest sha(byte[] b) {
    return DigestFunction.SHA256.digestOf(b);
  }

  private static Status.Code codeOf(Runnable call) {
    try {
      call.run();
      return Status.Code.OK;
    } catch (StatusRuntimeException e) {
      return e.getStatus().getCode();
    }
  }

  private byte[] readAll(String resource, long offset, long limit) {
    return ByteStreamCalls.readAll(bytestream, resource, offset, limit);
  }

  /** Sends the messages, then returns the response or throws the status. */
  private WriteResponse write(List<WriteRequest> messages, boolean complete) throws Exception {
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    StreamObserver<WriteRequest> stream = ByteStreamCalls.openWrite(bytestreamAsync, result);
    for (WriteRequest m : messages) {
      stream.onNext(m);
    }
    if (complete) {
      stream.onCompleted();
    } else {
      stream.onError(Status.CANCELLED.asRuntimeException());
      return null;
    }
    try {
      return result.get(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw (Exception) e.getCause();
    }
  }

  private static WriteRequest chunk(String resource, long offset, byte[] data, int from, int to, boolean finish) {
    WriteRequest.Builder b = WriteRequest.newBuilder().setWriteOffset(offset)
        .setData(ByteString.copyFrom(data, from, to - from)).setFinishWrite(finish);
    if (resource != null) {
      b.setResourceName(resource);
    }
    return b.build();
  }

  @Test
  void capabilities_announceWhatBazelNeeds() {
    ServerCapabilities caps = CapabilitiesGrpc.newBlockingStub(cairn.channel)
        .getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
    assertThat(caps.getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled()).isTrue();
    assertThat(caps.getCacheCapabilities().getDigestFunctionsList())
        .contains(build.bazel.remote.execution.v2.DigestFunction.Value.SHA256,
            build.bazel.remote.execution.v2.DigestFunction.Value.BLAKE3);
    assertThat(caps.getLowApiVersion().getMajor()).isEqualTo(2);
    assertThat(caps.getHighApiVersion().getMajor()).isEqualTo(2);
    assertThat(caps.getCacheCapabilities().getSupportedCompressorsList()).contains(Compressor.Value.ZSTD);
    assertThat(caps.getCacheCapabilities().getMaxBatchTotalSizeBytes()).isEqualTo(4L << 20);
  }

  @Test
  void badResourceNames_areInvalidArgument() {
    String hash = sha(new byte[] {1}).hash();
    for (String name : List.of("", "blobs", "blobs/" + hash, "blobs/" + hash + "/x",
        "blobs/" + hash + "/-1", "blobs/nothex/1", "../blobs/" + hash + "/1",
        "a/../blobs/" + hash + "/1", "a//blobs/" + hash + "/1", "./blobs/" + hash + "/1",
        "compressed-blobs/gzip/" + hash + "/1", "blobs/" + hash + "/1/extra")) {
      assertThat(codeOf(() -> readAll(name, 0, 0))).as(name).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }
    for (String name : List.of("uploads/u1/blobs/nothex/1", "../uploads/u/blobs/" + hash + "/1",
        "uploads//blobs/" + hash + "/1", "blobs/" + hash + "/1")) {
      assertThatThrownBy(() -> write(List.of(chunk(name, 0, new byte[] {1}, 0, 1, true)), true))
          .as(name).isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
  }

  @Test
  void read_withOffsetAndLimit_andErrors() throws IOException {
    byte[] data = random(1_000_000, 1);
    Digest d = cairn.sha256.put(data);
    String name = "any/instance/blobs/" + d.hash() + "/" + d.sizeBytes();
    assertThat(readAll(name, 0, 0)).isEqualTo(data);
    assertThat(readAll(name, 999_000, 0)).hasSize(1000);
    assertThat(readAll(name, 10, 20)).isEqualTo(java.util.Arrays.copyOfRange(data, 10, 30));
    assertThat(codeOf(() -> readAll(name, 1_000_001, 0))).isEqualTo(Status.Code.OUT_OF_RANGE);
    assertThat(codeOf(() -> readAll(name, -1, 0))).isEqualTo(Status.Code.OUT_OF_RANGE);
    Digest absent = sha(new byte[] {9});
    assertThat(codeOf(() -> readAll("blobs/" + absent.hash() + "/1", 0, 0))).isEqualTo(Status.Code.NOT_FOUND);
  }

  @Test
  void compressedRead_decompressesToTheBlob() throws IOException {
    byte[] data = new byte[3_000_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i % 251 < 200 ? 'a' : i);
    }
    Digest d = cairn.sha256.put(data);
    byte[] compressed = readAll("compressed-blobs/zstd/" + d.hash() + "/" + d.sizeBytes(), 0, 0);
    assertThat(compressed.length).isLessThan(data.length / 2);
    assertThat(Zstd.decompress(compressed, data.length)).isEqualTo(data);
  }

  @Test
  void write_inChunks_storesVerifiedBlob() throws Exception {
    byte[] data = random(700_000, 2);
    Digest d = sha(data);
    String name = "inst/uploads/u-1/blobs/" + d.hash() + "/" + d.sizeBytes();
    WriteResponse r = write(List.of(
        chunk(name, 0, data, 0, 300_000, false),
        chunk(null, 300_000, data, 300_000, 700_000, true)), true);
    assertThat(r.getCommittedSize()).isEqualTo(700_000);
    assertThat(cairn.sha256.get(d)).isEqualTo(data);
  }

  @Test
  void write_sizeLies_storeNothing() throws Exception {
    byte[] data = random(1000, 3);
    Digest real = sha(data);
    Digest tooSmall = new Digest(real.hash(), 999);
    Digest tooLarge = new Digest(real.hash(), 1001);
    for (Digest claimed : List.of(tooSmall, tooLarge)) {
      String name = "uploads/u/blobs/" + claimed.hash() + "/" + claimed.sizeBytes();
      assertThatThrownBy(() -> write(List.of(chunk(name, 0, data, 0, 1000, true)), true))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
      assertThat(cairn.sha256.contains(claimed)).isFalse();
    }
    Digest wrongHash = sha(random(1000, 4));
    String name = "uploads/u/blobs/" + wrongHash.hash() + "/1000";
    assertThatThrownBy(() -> write(List.of(chunk(name, 0, data, 0, 1000, true)), true))
        .hasMessageContaining("digest mismatch");
    assertThat(cairn.sha256.contains(wrongHash)).isFalse();
    assertThat(cairn.sha256.contains(real)).isFalse();
  }

  @Test
  void write_wrongOffset_isRejected() {
    byte[] data = random(1000, 5);
    Digest d = sha(data);
    String name = "uploads/u/blobs/" + d.hash() + "/1000";
    assertThatThrownBy(() -> write(List.of(
        chunk(name, 0, data, 0, 500, false), chunk(null, 400, data, 500, 1000, true)), true))
        .hasMessageContaining("write_offset 400");
  }

  /**
   * Sends the first {@code length} bytes of {@code data} to {@code name}, waits until the server
   * has them, then cancels the stream as a client that vanishes would; returns the committed size.
   */
  private long uploadPartThenVanish(String name, byte[] data, int length) throws Exception {
    StreamObserver<WriteRequest> stream = bytestreamAsync.write(new StreamObserver<>() {
      @Override
      public void onNext(WriteResponse value) {}

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    });
    stream.onNext(chunk(name, 0, data, 0, length, false));
    QueryWriteStatusRequest query = QueryWriteStatusRequest.newBuilder().setResourceName(name).build();
    long committed = 0;
    for (int i = 0; i < 500 && committed < length; i++) {
      committed = bytestream.queryWriteStatus(query).getCommittedSize();
      Thread.sleep(10);
    }
    stream.onError(Status.CANCELLED.asRuntimeException());
    return committed;
  }

  @Test
  void cancelledUpload_isInvisible_thenResumesAtCommittedOffset() throws Exception {
    byte[] data = random(2_000_000, 6);
    Digest d = sha(data);
    String name = "uploads/resume-me/blobs/" + d.hash() + "/" + d.sizeBytes();
    long committed = uploadPartThenVanish(name, data, 1_200_000);
    QueryWriteStatusRequest query = QueryWriteStatusRequest.newBuilder().setResourceName(name).build();
    assertThat(committed).isEqualTo(1_200_000);
    assertThat(bytestream.queryWriteStatus(query).getComplete()).isFalse();
    assertThat(cairn.sha256.contains(d)).as("nothing visible before the upload finishes").isFalse();
    WriteResponse r = write(List.of(
        chunk(name, committed, data, (int) committed, data.length, true)), true);
    assertThat(r.getCommittedSize()).isEqualTo(data.length);
    assertThat(cairn.sha256.get(d)).isEqualTo(data);
    assertThat(bytestream.queryWriteStatus(query).getComplete()).isTrue();
  }

  @Test
  void resumedUpload_whoseEarlierPartChangedOnDisk_isRejected() throws Exception {
    // The bytes are hashed as they arrive; a resumed upload hashes what the earlier stream left
    // in the upload file, so a damaged part is caught though no stream sends it again.
    byte[] data = random(600_000, 11);
    Digest d = sha(data);
    String name = "uploads/damaged/blobs/" + d.hash() + "/" + d.sizeBytes();
    long committed = uploadPartThenVanish(name, data, 400_000);
    assertThat(committed).isEqualTo(400_000);
    java.nio.file.Path partial = cairn.uploads.fileFor(ResourceName.parseWrite(name));
    try (var ch = java.nio.channels.FileChannel.open(partial, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {(byte) ~data[1234]}), 1234);
    }
    long resumeAt = committed;
    assertThatThrownBy(() -> write(List.of(
        chunk(name, resumeAt, data, (int) resumeAt, data.length, true)), true))
        .hasMessageContaining("digest mismatch");
    assertThat(cairn.sha256.contains(d)).isFalse();
    WriteResponse again = write(List.of(chunk(name, 0, data, 0, data.length, true)), true);
    assertThat(again.getCommittedSize()).isEqualTo(data.length);
    assertThat(cairn.sha256.get(d)).isEqualTo(data);
  }

  @Test
  void uploadFileLockedByAnotherProcess_isAborted_untilReleased() throws Exception {
    byte[] data = random(300_000, 12);
    Digest d = sha(data);
    String name = "uploads/locked/blobs/" + d.hash() + "/" + d.sizeBytes();
    long committed = uploadPartThenVanish(name, data, 100_000);
    assertThat(committed).isEqualTo(100_000);
    java.nio.file.Path partial = cairn.uploads.fileFor(ResourceName.parseWrite(name));
    // What another server process sharing the store holds while it writes this upload.
    try (var other = java.nio.channels.FileChannel.open(partial, java.nio.file.StandardOpenOption.WRITE);
        var lock = lockOnceReleased(other)) {
      assertThatThrownBy(() -> write(List.of(chunk(name, 0, data, 0, data.length, true)), true))
          .isInstanceOfSatisfying(StatusRuntimeException.class,
              e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED))
          .hasMessageContaining("another process is uploading");
      assertThat(java.nio.file.Files.size(partial)).as("not truncated under the other writer")
          .isEqualTo(100_000);
    }
    WriteResponse r = write(List.of(
        chunk(name, committed, data, (int) committed, data.length, true)), true);
    assertThat(r.getCommittedSize()).isEqualTo(data.length);
    assertThat(cairn.sha256.get(d)).isEqualTo(data);
  }

  /**
   * Locks {@code channel}'s file once the server has let go of it: the cancelled stream's upload
   * closes its channel, and with it its lock, only when the server has seen the cancellation.
   */
  private static java.nio.channels.FileLock lockOnceReleased(java.nio.channels.FileChannel channel)
      throws Exception {
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (true) {
      try {
        return channel.lock();
      } catch (java.nio.channels.OverlappingFileLockException e) { // still the server's, in this JVM
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(10);
      }
    }
  }

  @Test
  void write_ofExistingBlob_endsEarly() throws Exception {
    byte[] data = random(100_000, 7);
    Digest d = cairn.sha256.put(data);
    WriteResponse r = write(List.of(chunk("uploads/u/blobs/" + d.hash() + "/100000", 0, data, 0, 10, false)), true);
    assertThat(r.getCommittedSize()).isEqualTo(100_000);
    WriteResponse c = write(List.of(chunk("uploads/u/compressed-blobs/zstd/" + d.hash() + "/100000", 0, data, 0, 10, false)), true);
    assertThat(c.getCommittedSize()).isEqualTo(-1);
  }

  @Test
  void compressedUpload_verified_andWrongDigestRejected() throws Exception {
    byte[] data = random(500_000, 8);
    byte[] z = Zstd.compress(data);
    Digest d = sha(data);
    WriteResponse r = write(List.of(chunk("uploads/z/compressed-blobs/zstd/" + d.hash() + "/" + d.sizeBytes(),
        0, z, 0, z.length, true)), true);
    assertThat(r.getCommittedSize()).isEqualTo(z.length);
    assertThat(cairn.sha256.get(d)).isEqualTo(data);

    byte[] other = random(500_000, 9);
    byte[] zOther = Zstd.compress(other);
    Digest claimed = sha(random(500_000, 10));
    assertThatThrownBy(() -> write(List.of(chunk("uploads/z/compressed-blobs/zstd/" + claimed.hash() + "/500000",
        0, zOther, 0, zOther.length, true)), true)).hasMessageContaining("digest mismatch");
    assertThat(cairn.sha256.contains(claimed)).isFalse();
  }

  @Test
  void batchUpdate_failsOnlyTheBadBlob_andAcceptsZstd() throws IOException {
    byte[] good = random(100, 11);
    byte[] bad = random(100, 12);
    byte[] zipped = random(100, 13);
    Digest wrong = sha(random(100, 14));
    BatchUpdateBlobsResponse r = cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(sha(good).toProto()).setData(ByteString.copyFrom(good)))
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(wrong.toProto()).setData(ByteString.copyFrom(bad)))
        .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(sha(zipped).toProto())
            .setCompressor(Compressor.Value.ZSTD).setData(ByteString.copyFrom(Zstd.compress(zipped))))
        .build());
    assertThat(r.getResponsesList()).extracting(x -> x.getStatus().getCode())
        .containsExactly(0, Status.Code.INVALID_ARGUMENT.value(), 0);
    assertThat(cairn.sha256.get(sha(good))).isEqualTo(good);
    assertThat(cairn.sha256.get(sha(zipped))).isEqualTo(zipped);
    assertThat(cairn.sha256.contains(wrong)).isFalse();
  }

  @Test
  void emptyProbes_areAnsweredOk_asBuildStreamExpects() {
    assertThat(cas.batchUpdateBlobs(BatchUpdateBlobsRequest.getDefaultInstance()).getResponsesCount()).isZero();
    assertThat(cas.batchReadBlobs(build.bazel.remote.execution.v2.BatchReadBlobsRequest.getDefaultInstance())
        .getResponsesCount()).isZero();
  }

  @Test
  void findMissing_withInvalidDigest_namesIt() {
    var bad = build.bazel.remote.execution.v2.Digest.newBuilder().setHash("xyz").setSizeBytes(1).build();
    assertThatThrownBy(() -> cas.findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(bad).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("xyz");
        });
  }

  @Test
  void findMissing_ofManyDigests() throws IOException {
    FindMissingBlobsRequest.Builder req = FindMissingBlobsRequest.newBuilder();
    List<Digest> present = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      present.add(cairn.sha256.put(random(10, 100 + i)));
    }
    present.forEach(d -> req.addBlobDigests(d.toProto()));
    for (int i = 0; i < 20_000; i++) {
      req.addBlobDigests(sha(("absent" + i).getBytes()).toProto());
    }
    assertThat(cas.findMissingBlobs(req.build()).getMissingBlobDigestsCount()).isEqualTo(20_000);
  }

  @Test
  void getTree_pagesThroughEveryDirectoryOnce() throws IOException {
    // A chain of 25 directories plus a shared leaf referenced twice.
    Digest leaf = cairn.sha256.put(Directory.getDefaultInstance().toByteArray());
    Directory.Builder current = Directory.newBuilder()
        .addDirectories(DirectoryNode.newBuilder().setName("x").setDigest(leaf.toProto()))
        .addDirectories(DirectoryNode.newBuilder().setName("y").setDigest(leaf.toProto()));
    Digest top = cairn.sha256.put(current.build().toByteArray());
    for (int i = 0; i < 24; i++) {
      top = cairn.sha256.put(Directory.newBuilder()
          .addDirectories(DirectoryNode.newBuilder().setName("d" + i).setDigest(top.toProto()))
          .build().toByteArray());
    }
    List<Directory> all = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      Iterator<GetTreeResponse> it = cas.getTree(GetTreeRequest.newBuilder()
          .setRootDigest(top.toProto()).setPageSize(10).setPageToken(token).build());
      GetTreeResponse page = it.next();
      all.addAll(page.getDirectoriesList());
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(all).hasSize(26);
    assertThat(pages).isEqualTo(3);
  }

  @Test
  void actionCache_completenessInliningAndInstances() throws IOException {
    byte[] out = "output bytes".getBytes();
    Digest outDigest = cairn.sha256.put(out);
    Digest action = sha("action".getBytes());
    ActionResult result = ActionResult.newBuilder().setExitCode(0)
        .addOutputFiles(OutputFile.newBuilder().setPath("o").setDigest(outDigest.toProto()))
        .setStdoutRaw(ByteString.copyFromUtf8("hello stdout"))
        .build();
    ac.updateActionResult(UpdateActionResultRequest.newBuilder().setInstanceName("ci")
        .setActionDigest(action.toProto()).setActionResult(result).build());
    ActionResult plain = ac.getActionResult(GetActionResultRequest.newBuilder().setInstanceName("ci")
        .setActionDigest(action.toProto()).build());
    assertThat(plain.getStdoutRaw().isEmpty()).isTrue();
    assertThat(plain.hasStdoutDigest()).isTrue();
    ActionResult inlined = ac.getActionResult(GetActionResultRequest.newBuilder().setInstanceName("ci")
        .setActionDigest(action.toProto()).setInlineStdout(true).addInlineOutputFiles("o").build());
    assertThat(inlined.getStdoutRaw().toStringUtf8()).isEqualTo("hello stdout");
    assertThat(inlined.getOutputFiles(0).getContents().toByteArray()).isEqualTo(out);
    assertThat(codeOf(() -> ac.getActionResult(GetActionResultRequest.newBuilder()
        .setInstanceName("other").setActionDigest(action.toProto()).build()))).isEqualTo(Status.Code.NOT_FOUND);
    // Evict the output: the result must become a miss, not a dangling hit.
    cairn.sha256.gc(0);
    assertThat(codeOf(() -> ac.getActionResult(GetActionResultRequest.newBuilder()
        .setInstanceName("ci").setActionDigest(action.toProto()).build()))).isEqualTo(Status.Code.NOT_FOUND);
  }
}
