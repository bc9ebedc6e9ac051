// gRPC load generator for bench/server/run.sh: REAPI CAS batches, ByteStream transfers,
// FindMissingBlobs latency, and the JVM's SHA-256 rate, against one or more servers side by side.
//
// Runs as a single-file source program on the classpath of Cairn's shaded jar (which carries
// grpc-netty-shaded, protobuf and the generated REAPI/ByteStream classes):
//
//   java -cp cairn-cli/target/cairn.jar bench/server/GrpcLoad.java MODE [--key value]...
//
// Modes (every loop is bounded in time or count; all targets are 127.0.0.1):
//   sha256      --bytes N --runs R                 hash N bytes of distinct memory, R times
//   batch       --target NAME=HOST:PORT ...        BatchUpdateBlobs of fresh blobs, then
//               --runs R --seconds S --streams C     BatchReadBlobs of what was stored, per target,
//               --batch B --blob BYTES               targets alternating in order run by run
//   bytestream  --target NAME=HOST:PORT ...        Write a fresh blob of --bytes through ByteStream,
//               --runs R --bytes N --chunk C         then Read it back; targets alternate;
//               --warmup-bytes N --warmups W         W unmeasured round trips of N bytes first
//   findmissing --target NAME=HOST:PORT            one FindMissingBlobs of --digests digests, half
//               --digests N --runs R --warmup W      (--present F) present, uploaded first; or
//               --split K --present F                --split K calls in sequence; client-observed
//
// Output: "RESULT metric target run=i value unit foreign_cpu=P% attempt=A wall=.. client_cpu=..
// server_cpu=.." per run (CPU seconds of this JVM and of the --pids servers) and
// "MEDIAN metric target value unit", which run.sh collects. The machine may be shared: a run
// during which other processes used more than --max-foreign percent (default 15) of the busy CPU
// time (this JVM and --pids P1,P2 being ours) is repeated, up to --retries (default 2) times,
// after the CPUs were idle again. Anything unexpected (a non-OK status, a short read, a wrong count of
// missing digests) ends the program with status 1 and a message on stderr.

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.grpc.stub.StreamObserver;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

public class GrpcLoad {
  static final HexFormat HEX = HexFormat.of();
  static final int MAX_MESSAGE = 64 << 20;

  record Target(String name, String address) {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      fail("usage: GrpcLoad sha256|batch|bytestream|findmissing [--key value]...");
    }
    Opts o = new Opts(Arrays.copyOfRange(args, 1, args.length));
    if (!o.string("pids", "").isEmpty()) {
      CpuWatch.serverPids = Arrays.stream(o.string("pids", "").split(",")).map(Long::parseLong).toList();
    }
    CpuWatch.maxForeignPercent = o.integer("max-foreign", 15);
    CpuWatch.retries = o.integer("retries", 2);
    switch (args[0]) {
      case "sha256" -> sha256(o);
      case "batch" -> batch(o);
      case "bytestream" -> bytestream(o);
      case "findmissing" -> findMissing(o);
      default -> fail("unknown mode " + args[0]);
    }
    System.exit(0); // channels use daemon threads, but be sure nothing lingers
  }

  // ------------------------------------------------------------------------------------ sha256

  /**
   * Java's SHA-256 over N bytes of distinct memory (256 KiB arrays, below G1's humongous size),
   * one warm-up pass, R timed runs.
   */
  static void sha256(Opts o) throws Exception {
    long bytes = o.size("bytes", 1L << 30);
    int runs = o.integer("runs", 3);
    int chunk = 256 << 10;
    int n = (int) ((bytes + chunk - 1) / chunk);
    byte[][] data = new byte[n][chunk];
    SplittableRandom random = new SplittableRandom(1);
    for (byte[] d : data) {
      random.nextBytes(d);
    }
    List<Double> rates = new ArrayList<>();
    Measurement pass = () -> {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      long t0 = System.nanoTime();
      for (byte[] d : data) {
        md.update(d);
      }
      md.digest();
      return (double) n * chunk / ((System.nanoTime() - t0) / 1e9) / 1e9;
    };
    pass.run(); // warms the JIT up
    for (int r = 1; r <= runs; r++) {
      rates.add(guarded("sha256_java", "jvm", r, "GB/s", null, pass));
    }
    median("sha256_java", "jvm", rates, "GB/s");
  }

  // ------------------------------------------------------------------------------------- batch

  static final class BatchTarget {
    final Target target;
    final List<ManagedChannel> channels = new ArrayList<>();
    final List<Digest> stored = new ArrayList<>();
    final List<Double> updateRates = new ArrayList<>();
    final List<Double> readRates = new ArrayList<>();

    BatchTarget(Target target, int streams) {
      this.target = target;
      for (int i = 0; i < streams; i++) {
        channels.add(channel(target.address()));
      }
    }
  }

  static void batch(Opts o) throws Exception {
    List<Target> targets = o.targets();
    int runs = o.integer("runs", 3);
    double seconds = o.decimal("seconds", 5);
    int streams = o.integer("streams", 4);
    int batchSize = o.integer("batch", 100);
    int blobSize = (int) o.size("blob", 4096);
    int maxBlobs = o.integer("max-blobs", 150_000);
    List<BatchTarget> bts = new ArrayList<>();
    for (Target t : targets) {
      bts.add(new BatchTarget(t, streams));
    }
    SplittableRandom random = new SplittableRandom(System.nanoTime());
    // Warm-up: a short update and read per target (JIT, connections, thread pools), which also
    // tells how many fresh blobs a timed run needs (so none is generated inside the timed window).
    Map<String, Double> warmRate = new HashMap<>();
    for (BatchTarget bt : bts) {
      List<BatchUpdateBlobsRequest> pool = updatePool(random, 30_000, batchSize, blobSize);
      double rate = runUpdate(bt, pool, 3, streams, batchSize);
      runRead(bt, 3, streams, batchSize, blobSize);
      warmRate.put(bt.target.name(), rate);
      log("warm-up %s: BatchUpdateBlobs %.0f blobs/s", bt.target.name(), rate);
    }
    for (int r = 1; r <= runs; r++) {
      List<BatchTarget> order = new ArrayList<>(bts);
      if (r % 2 == 0) {
        Collections.reverse(order);
      }
      for (BatchTarget bt : order) {
        int need = (int) Math.min(maxBlobs, Math.max(5_000, warmRate.get(bt.target.name()) * seconds * 1.6));
        // Each attempt needs fresh blobs (a repeat of stored ones would only hit), made before it.
        List<List<BatchUpdateBlobsRequest>> pool = new ArrayList<>(List.of(List.of()));
        bt.updateRates.add(guarded("batch_update_4k", bt.target.name(), r, "blobs/s",
            () -> pool.set(0, updatePool(random, need, batchSize, blobSize)),
            () -> runUpdate(bt, pool.get(0), seconds, streams, batchSize)));
      }
      for (BatchTarget bt : order) {
        bt.readRates.add(guarded("batch_read_4k", bt.target.name(), r, "blobs/s", null,
            () -> runRead(bt, seconds, streams, batchSize, blobSize)));
      }
    }
    for (BatchTarget bt : bts) {
      median("batch_update_4k", bt.target.name(), bt.updateRates, "blobs/s");
      median("batch_read_4k", bt.target.name(), bt.readRates, "blobs/s");
      bt.channels.forEach(ManagedChannel::shutdownNow);
    }
  }

  /** Fresh random blobs with their digests, grouped into ready-made requests. */
  static List<BatchUpdateBlobsRequest> updatePool(SplittableRandom random, int blobs, int batchSize, int blobSize)
      throws NoSuchAlgorithmException {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    List<BatchUpdateBlobsRequest> pool = new ArrayList<>();
    for (int done = 0; done < blobs; ) {
      BatchUpdateBlobsRequest.Builder b = BatchUpdateBlobsRequest.newBuilder();
      for (int i = 0; i < batchSize && done < blobs; i++, done++) {
        byte[] data = new byte[blobSize];
        random.nextBytes(data);
        b.addRequests(BatchUpdateBlobsRequest.Request.newBuilder()
            .setDigest(digest(md, data))
            .setData(UnsafeByteOperations.unsafeWrap(data)));
      }
      pool.add(b.build());
    }
    return pool;
  }

  /** Sends the pool's requests on `streams` connections until it is used up or time is out. */
  static double runUpdate(BatchTarget bt, List<BatchUpdateBlobsRequest> pool, double seconds, int streams,
      int batchSize) throws Exception {
    AtomicInteger next = new AtomicInteger();
    AtomicLong blobs = new AtomicLong();
    List<Digest> stored = Collections.synchronizedList(new ArrayList<>());
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long t0 = System.nanoTime();
    runWorkers(streams, w -> {
      var stub = ContentAddressableStorageGrpc.newBlockingStub(bt.channels.get(w));
      while (System.nanoTime() < deadline) {
        int i = next.getAndIncrement();
        if (i >= pool.size()) {
          return;
        }
        BatchUpdateBlobsRequest req = pool.get(i);
        BatchUpdateBlobsResponse resp = stub.withDeadlineAfter(60, TimeUnit.SECONDS).batchUpdateBlobs(req);
        if (resp.getResponsesCount() != req.getRequestsCount()) {
          fail(bt.target.name() + ": BatchUpdateBlobs answered " + resp.getResponsesCount() + " of "
              + req.getRequestsCount() + " blobs");
        }
        for (var one : resp.getResponsesList()) {
          if (one.getStatus().getCode() != 0) {
            fail(bt.target.name() + ": BatchUpdateBlobs blob " + one.getDigest().getHash() + " status "
                + one.getStatus().getCode() + " " + one.getStatus().getMessage());
          }
        }
        for (var one : req.getRequestsList()) {
          stored.add(one.getDigest());
        }
        blobs.addAndGet(req.getRequestsCount());
      }
    });
    double s = (System.nanoTime() - t0) / 1e9;
    bt.stored.addAll(stored);
    return blobs.get() / s;
  }

  /** Reads back stored blobs in batches (rotating over all of them) until time is out. */
  static double runRead(BatchTarget bt, double seconds, int streams, int batchSize, int blobSize) throws Exception {
    List<BatchReadBlobsRequest> requests = new ArrayList<>();
    List<Digest> stored = new ArrayList<>(bt.stored);
    Collections.shuffle(stored, new java.util.Random(7));
    for (int i = 0; i + batchSize <= stored.size(); i += batchSize) {
      requests.add(BatchReadBlobsRequest.newBuilder().addAllDigests(stored.subList(i, i + batchSize)).build());
    }
    if (requests.isEmpty()) {
      fail(bt.target.name() + ": nothing stored to read back");
    }
    AtomicInteger next = new AtomicInteger();
    AtomicLong blobs = new AtomicLong();
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long t0 = System.nanoTime();
    runWorkers(streams, w -> {
      var stub = ContentAddressableStorageGrpc.newBlockingStub(bt.channels.get(w));
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      boolean verified = false;
      while (System.nanoTime() < deadline) {
        BatchReadBlobsRequest req = requests.get(Math.floorMod(next.getAndIncrement(), requests.size()));
        BatchReadBlobsResponse resp = stub.withDeadlineAfter(60, TimeUnit.SECONDS).batchReadBlobs(req);
        if (resp.getResponsesCount() != req.getDigestsCount()) {
          fail(bt.target.name() + ": BatchReadBlobs answered " + resp.getResponsesCount() + " of "
              + req.getDigestsCount());
        }
        for (var one : resp.getResponsesList()) {
          if (one.getStatus().getCode() != 0 || one.getData().size() != blobSize) {
            fail(bt.target.name() + ": BatchReadBlobs blob " + one.getDigest().getHash() + " status "
                + one.getStatus().getCode() + ", " + one.getData().size() + " bytes");
          }
          if (!verified) { // check the content of one batch per stream, outside the hot loop's cost
            if (!digest(md, one.getData().toByteArray()).equals(one.getDigest())) {
              fail(bt.target.name() + ": BatchReadBlobs returned wrong bytes for " + one.getDigest().getHash());
            }
          }
        }
        verified = true;
        blobs.addAndGet(req.getDigestsCount());
      }
    });
    return blobs.get() / ((System.nanoTime() - t0) / 1e9);
  }

  // -------------------------------------------------------------------------------- bytestream

  /** A blob as ready-made chunks, so the timed upload only sends. */
  record Blob(String hash, long size, List<ByteString> chunks) {}

  /**
   * A blob no server has seen: a first chunk of fresh random bytes, then one other random chunk
   * repeated (the same ByteString object). Neither server deduplicates below whole blobs, and the
   * client keeps 2 chunks in memory instead of the whole blob: on this VM, touching a fresh GiB of
   * heap costs seconds of CPU that would otherwise be charged to the client.
   */
  static Blob makeBlob(long size, int chunk, long nonce) throws NoSuchAlgorithmException {
    SplittableRandom random = new SplittableRandom(nonce);
    byte[] first = new byte[chunk];
    random.nextBytes(first);
    byte[] rest = new byte[chunk];
    random.nextBytes(rest);
    ByteString restChunk = UnsafeByteOperations.unsafeWrap(rest);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    List<ByteString> chunks = new ArrayList<>();
    for (long off = 0; off < size; off += chunk) {
      int n = (int) Math.min(chunk, size - off);
      ByteString c = off == 0
          ? UnsafeByteOperations.unsafeWrap(first, 0, n)
          : n == chunk ? restChunk : restChunk.substring(0, n);
      for (var b : c.asReadOnlyByteBufferList()) {
        md.update(b);
      }
      chunks.add(c);
    }
    return new Blob(HEX.formatHex(md.digest()), size, chunks);
  }

  static void bytestream(Opts o) throws Exception {
    List<Target> targets = o.targets();
    int runs = o.integer("runs", 3);
    long bytes = o.size("bytes", 1L << 30);
    int chunk = (int) o.size("chunk", 1 << 20);
    long warmBytes = o.size("warmup-bytes", 256L << 20);
    int warmups = o.integer("warmups", 1);
    boolean sync = !o.flag("no-sync");
    Map<String, ManagedChannel> channels = new HashMap<>();
    for (Target t : targets) {
      channels.put(t.name(), channel(t.address()));
    }
    Map<String, List<Double>> up = new HashMap<>();
    Map<String, List<Double>> down = new HashMap<>();
    for (Target t : targets) {
      for (int w = 0; w < warmups; w++) {
        Blob warm = makeBlob(warmBytes, chunk, System.nanoTime());
        double u = upload(t, channels.get(t.name()), warm);
        double d = download(t, channels.get(t.name()), warm, true);
        log("warm-up %s: ByteStream %d MiB up %.2f GB/s, down %.2f GB/s (content verified)",
            t.name(), warmBytes >> 20, u, d);
      }
      up.put(t.name(), new ArrayList<>());
      down.put(t.name(), new ArrayList<>());
    }
    for (int r = 1; r <= runs; r++) {
      List<Target> order = new ArrayList<>(targets);
      if (r % 2 == 0) {
        Collections.reverse(order);
      }
      for (Target t : order) {
        List<Blob> blob = new ArrayList<>(List.of(makeBlob(0, chunk, 0)));
        up.get(t.name()).add(guarded("bytestream_upload_1g", t.name(), r, "GB/s", () -> {
          blob.set(0, makeBlob(bytes, chunk, System.nanoTime()));
          if (sync) { // start each timed upload without earlier runs' dirty pages being written back
            new ProcessBuilder("sync").inheritIO().start().waitFor();
          }
        }, () -> upload(t, channels.get(t.name()), blob.get(0))));
        down.get(t.name()).add(guarded("bytestream_download_1g", t.name(), r, "GB/s", null,
            () -> download(t, channels.get(t.name()), blob.get(0), false)));
      }
    }
    for (Target t : targets) {
      median("bytestream_upload_1g", t.name(), up.get(t.name()), "GB/s");
      median("bytestream_download_1g", t.name(), down.get(t.name()), "GB/s");
      channels.get(t.name()).shutdownNow();
    }
  }

  /** One Write stream, sending only while the transport is ready; GB/s until the server answers. */
  static double upload(Target t, ManagedChannel ch, Blob blob) throws Exception {
    String resource = "uploads/" + UUID.randomUUID() + "/blobs/" + blob.hash() + "/" + blob.size();
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> error = new AtomicReference<>();
    AtomicLong committed = new AtomicLong(-2);
    long t0 = System.nanoTime();
    ByteStreamGrpc.newStub(ch).withDeadlineAfter(300, TimeUnit.SECONDS).write(
        new ClientResponseObserver<WriteRequest, WriteResponse>() {
          ClientCallStreamObserver<WriteRequest> requests;
          int next;
          long offset;

          @Override
          public void beforeStart(ClientCallStreamObserver<WriteRequest> requests) {
            this.requests = requests;
            requests.setOnReadyHandler(this::pump);
          }

          synchronized void pump() {
            List<ByteString> chunks = blob.chunks();
            while (next < chunks.size() && requests.isReady()) {
              ByteString data = chunks.get(next);
              WriteRequest.Builder b = WriteRequest.newBuilder().setWriteOffset(offset).setData(data);
              if (next == 0) {
                b.setResourceName(resource);
              }
              if (next == chunks.size() - 1) {
                b.setFinishWrite(true);
              }
              requests.onNext(b.build());
              offset += data.size();
              next++;
              if (next == chunks.size()) {
                requests.onCompleted();
              }
            }
          }

          @Override
          public void onNext(WriteResponse value) {
            committed.set(value.getCommittedSize());
          }

          @Override
          public void onError(Throwable e) {
            error.set(e);
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    if (!done.await(310, TimeUnit.SECONDS)) {
      fail(t.name() + ": ByteStream upload did not finish");
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (error.get() != null) {
      fail(t.name() + ": ByteStream upload failed: " + error.get());
    }
    if (committed.get() != blob.size()) {
      fail(t.name() + ": ByteStream upload committed " + committed.get() + " of " + blob.size());
    }
    return blob.size() / s / 1e9;
  }

  /** One Read stream of the whole blob; counts bytes (and checks the content when asked). */
  static double download(Target t, ManagedChannel ch, Blob blob, boolean verify) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    AtomicReference<Throwable> error = new AtomicReference<>();
    AtomicLong received = new AtomicLong();
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    long t0 = System.nanoTime();
    ByteStreamGrpc.newStub(ch).withDeadlineAfter(300, TimeUnit.SECONDS).read(
        ReadRequest.newBuilder().setResourceName("blobs/" + blob.hash() + "/" + blob.size()).build(),
        new StreamObserver<ReadResponse>() {
          @Override
          public void onNext(ReadResponse value) {
            received.addAndGet(value.getData().size());
            if (verify) {
              for (var b : value.getData().asReadOnlyByteBufferList()) {
                md.update(b);
              }
            }
          }

          @Override
          public void onError(Throwable e) {
            error.set(e);
            done.countDown();
          }

          @Override
          public void onCompleted() {
            done.countDown();
          }
        });
    if (!done.await(310, TimeUnit.SECONDS)) {
      fail(t.name() + ": ByteStream read did not finish");
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (error.get() != null) {
      fail(t.name() + ": ByteStream read failed: " + error.get());
    }
    if (received.get() != blob.size()) {
      fail(t.name() + ": ByteStream read returned " + received.get() + " of " + blob.size() + " bytes");
    }
    if (verify && !HEX.formatHex(md.digest()).equals(blob.hash())) {
      fail(t.name() + ": ByteStream read returned different bytes");
    }
    return blob.size() / s / 1e9;
  }

  // ------------------------------------------------------------------------------- findmissing

  static void findMissing(Opts o) throws Exception {
    Target t = o.targets().getFirst();
    int n = o.integer("digests", 100_000);
    int runs = o.integer("runs", 5);
    int warmup = o.integer("warmup", 3);
    int split = o.integer("split", 1);
    int blobSize = (int) o.size("blob", 256);
    String metric = o.string("metric", "findmissing_100k");
    ManagedChannel ch = channel(t.address());
    var stub = ContentAddressableStorageGrpc.newBlockingStub(ch);
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    SplittableRandom random = new SplittableRandom(o.integer("seed", 42));
    // --present (default half) of them stored first: the same blobs for the same seed, so
    // uploading them again is a no-op.
    List<Digest> present = new ArrayList<>();
    long t0 = System.nanoTime();
    BatchUpdateBlobsRequest.Builder b = BatchUpdateBlobsRequest.newBuilder();
    int nPresent = (int) Math.round(n * o.decimal("present", 0.5));
    for (int i = 0; i < nPresent; i++) {
      byte[] data = new byte[blobSize];
      random.nextBytes(data);
      Digest d = digest(md, data);
      present.add(d);
      b.addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(d).setData(ByteString.copyFrom(data)));
      if (b.getRequestsCount() == 1000 || i == nPresent - 1) {
        BatchUpdateBlobsResponse resp = stub.withDeadlineAfter(60, TimeUnit.SECONDS).batchUpdateBlobs(b.build());
        for (var one : resp.getResponsesList()) {
          if (one.getStatus().getCode() != 0) {
            fail(t.name() + ": storing blob " + one.getDigest().getHash() + " failed: " + one.getStatus());
          }
        }
        b = BatchUpdateBlobsRequest.newBuilder();
      }
    }
    log("stored %d present blobs of %d bytes in %.1f s", present.size(), blobSize, (System.nanoTime() - t0) / 1e9);
    Set<Digest> absent = new HashSet<>();
    while (absent.size() < n - present.size()) {
      byte[] h = new byte[32];
      random.nextBytes(h);
      absent.add(Digest.newBuilder().setHash(HEX.formatHex(h)).setSizeBytes(blobSize).build());
    }
    List<Digest> all = new ArrayList<>(present);
    all.addAll(absent);
    Collections.shuffle(all, new java.util.Random(1));
    List<FindMissingBlobsRequest> requests = new ArrayList<>();
    int per = (all.size() + split - 1) / split;
    for (int i = 0; i < all.size(); i += per) {
      requests.add(FindMissingBlobsRequest.newBuilder().addAllBlobDigests(all.subList(i, Math.min(all.size(), i + per))).build());
    }
    int bytes = requests.stream().mapToInt(FindMissingBlobsRequest::getSerializedSize).sum();
    log("%s: %d digests in %d call(s), %d request bytes", metric, all.size(), requests.size(), bytes);
    // The client's own share of a round trip, measured locally: encoding the requests and
    // decoding an answer listing the absent digests (what the gRPC stub does around the call).
    FindMissingBlobsResponse expected = FindMissingBlobsResponse.newBuilder().addAllMissingBlobDigests(absent).build();
    byte[] expectedBytes = expected.toByteArray();
    List<Double> codec = new ArrayList<>();
    for (int r = 0; r < 10; r++) {
      long c0 = System.nanoTime();
      for (FindMissingBlobsRequest req : requests) {
        req.toByteArray();
      }
      FindMissingBlobsResponse.parseFrom(expectedBytes);
      codec.add((System.nanoTime() - c0) / 1e6);
    }
    median(metric + "_client_codec", t.name(), codec.subList(5, 10), "ms");
    List<Double> times = new ArrayList<>();
    for (int r = -warmup + 1; r <= 0; r++) {
      double ms = findMissingOnce(t, stub, requests, absent, metric, false);
      log("warm-up %s: %.1f ms", metric, ms);
      if (r == -warmup + 1) {
        median(metric + "_first", t.name(), List.of(ms), "ms"); // the first call, on a cold server
      }
    }
    // With --metrics (the server's /metrics URL), the server's own time for the calls of each run:
    // the growth of its FindMissingBlobs timer's sum, read before and after the run.
    String metricsUrl = o.string("metrics", "");
    List<Double> serverTimes = new ArrayList<>();
    for (int r = 1; r <= runs; r++) {
      boolean last = r == runs;
      // guarded may repeat a run under foreign load and keep one attempt: the server time of
      // each attempt is kept by its client time, to report the kept attempt's.
      Map<Double, Double> serverByClient = new HashMap<>();
      double kept = guarded(metric, t.name(), r, "ms", null, () -> {
        double before = metricsUrl.isEmpty() ? 0 : serverSeconds(metricsUrl, "ContentAddressableStorage/FindMissingBlobs");
        double ms = findMissingOnce(t, stub, requests, absent, metric, last);
        if (!metricsUrl.isEmpty()) {
          serverByClient.put(ms, (serverSeconds(metricsUrl, "ContentAddressableStorage/FindMissingBlobs") - before) * 1e3);
        }
        return ms;
      });
      times.add(kept);
      if (!metricsUrl.isEmpty()) {
        double server = serverByClient.get(kept);
        log("run %d %s server time: %.1f ms (client %.1f ms)", r, metric, server, kept);
        serverTimes.add(server);
      }
    }
    median(metric, t.name(), times, "ms");
    if (!serverTimes.isEmpty()) {
      median(metric + "_server", t.name(), serverTimes, "ms");
    }
    ch.shutdownNow();
  }

  /** The sum, in seconds, of Cairn's {@code cairn_grpc_requests_seconds} timer for a method's OK calls. */
  static double serverSeconds(String metricsUrl, String method) throws Exception {
    var client = java.net.http.HttpClient.newHttpClient();
    var response = client.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(metricsUrl)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofLines());
    if (response.statusCode() != 200) {
      fail("GET " + metricsUrl + " answered " + response.statusCode());
    }
    String tag = "method=\"" + method + "\"";
    return response.body()
        .filter(l -> l.startsWith("cairn_grpc_requests_seconds_sum{") && l.contains(tag) && l.contains("code=\"OK\""))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  /**
   * One round of FindMissingBlobs calls: the client-observed time in ms (sending, the server's
   * work, receiving and parsing the answers). The answers are checked after the clock stops.
   */
  static double findMissingOnce(Target t, ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub stub,
      List<FindMissingBlobsRequest> requests, Set<Digest> absent, String metric, boolean checkAll) {
    List<FindMissingBlobsResponse> answers = new ArrayList<>();
    long s0 = System.nanoTime();
    try {
      for (FindMissingBlobsRequest req : requests) {
        answers.add(stub.withDeadlineAfter(60, TimeUnit.SECONDS).findMissingBlobs(req));
      }
    } catch (StatusRuntimeException e) {
      System.out.printf(Locale.ROOT, "ERROR %s %s %s%n", metric, t.name(),
          e.getStatus().getCode() + ": " + String.valueOf(e.getStatus().getDescription()).replace('\n', ' '));
      System.exit(3);
    }
    double ms = (System.nanoTime() - s0) / 1e6;
    int missing = answers.stream().mapToInt(FindMissingBlobsResponse::getMissingBlobDigestsCount).sum();
    if (missing != absent.size()) {
      fail(t.name() + ": FindMissingBlobs reported " + missing + " missing, expected " + absent.size());
    }
    if (checkAll) {
      Set<Digest> missingSet = new HashSet<>();
      answers.forEach(a -> missingSet.addAll(a.getMissingBlobDigestsList()));
      if (!missingSet.equals(absent)) {
        fail(t.name() + ": FindMissingBlobs reported the wrong digests as missing");
      }
    }
    return ms;
  }

  // ------------------------------------------------------------------------- foreign CPU load

  /**
   * Whether the machine was ours during a measurement: the share of all CPUs' busy time (from
   * /proc/stat) that neither this JVM nor the servers under test (--pids) used. The machine may be
   * shared with other people's benchmarks; a run they disturbed is repeated (--max-foreign,
   * --retries) after waiting for the CPUs to be idle again.
   */
  static final class CpuWatch {
    static List<Long> serverPids = List.of();
    static int maxForeignPercent = 15;
    static int retries = 2;
    private long busy0;
    private long ours0;
    private long self0;
    private long wall0;

    static CpuWatch start() {
      CpuWatch w = new CpuWatch();
      w.busy0 = machineBusy();
      w.ours0 = oursTicks();
      w.self0 = ticks("self");
      w.wall0 = System.nanoTime();
      return w;
    }

    /** CPU seconds of this client and of the servers since start, and wall seconds. */
    String usage() {
      long self = ticks("self") - self0;
      long servers = oursTicks() - ours0 - self;
      return String.format(Locale.ROOT, "wall=%.2fs client_cpu=%.2fs server_cpu=%.2fs",
          (System.nanoTime() - wall0) / 1e9, self / 100.0, servers / 100.0);
    }

    /** Percent of the machine's busy time since start that was not ours. */
    int foreignPercent() {
      long busy = machineBusy() - busy0;
      long ours = oursTicks() - ours0;
      return busy <= 0 ? 0 : (int) Math.max(0, Math.round(100.0 * (busy - ours) / busy));
    }

    static long machineBusy() {
      try {
        String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).getFirst().trim().split("\\s+");
        long sum = 0;
        for (int i = 1; i <= 8; i++) {
          sum += Long.parseLong(f[i]);
        }
        return sum - Long.parseLong(f[4]) - Long.parseLong(f[5]); // minus idle and iowait
      } catch (Exception e) {
        return 0;
      }
    }

    static long oursTicks() {
      long sum = ticks("self");
      for (long pid : serverPids) {
        sum += ticks(Long.toString(pid));
      }
      return sum;
    }

    /** utime + stime + cutime + cstime of one process (nginx/bst workers are threads or children). */
    static long ticks(String pid) {
      try {
        String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
      } catch (Exception e) {
        return 0;
      }
    }

    /** Waits (at most 20 s) until the CPUs are at least 90% idle over a second. */
    static void awaitQuiet() throws InterruptedException {
      long end = System.nanoTime() + 20_000_000_000L;
      while (System.nanoTime() < end) {
        long[] a = idleTotal();
        Thread.sleep(1000);
        long[] b = idleTotal();
        if (b[1] > a[1] && 100 * (b[0] - a[0]) / (b[1] - a[1]) >= 90) {
          return;
        }
        Thread.sleep(2000);
      }
      log("the CPUs stayed busy for 20 s; measuring anyway");
    }

    static long[] idleTotal() {
      try {
        String[] f = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/stat")).getFirst().trim().split("\\s+");
        long total = 0;
        for (int i = 1; i <= 8; i++) {
          total += Long.parseLong(f[i]);
        }
        return new long[] {Long.parseLong(f[4]) + Long.parseLong(f[5]), total};
      } catch (Exception e) {
        return new long[] {0, 1};
      }
    }
  }

  interface Measurement {
    double run() throws Exception;
  }

  interface Preparation {
    void run() throws Exception;
  }

  /**
   * Runs a measurement (after its untimed preparation, if any), repeating both when other
   * processes took a large share of the CPUs meanwhile; if every attempt was disturbed, the
   * least disturbed one counts.
   */
  static double guarded(String metric, String target, int run, String unit, Preparation prepare, Measurement m)
      throws Exception {
    double best = Double.NaN;
    int bestForeign = Integer.MAX_VALUE;
    int bestAttempt = 0;
    String bestUsage = "";
    for (int attempt = 1; attempt <= CpuWatch.retries + 1; attempt++) {
      if (prepare != null) {
        prepare.run();
      }
      CpuWatch w = CpuWatch.start();
      double value = m.run();
      int foreign = w.foreignPercent();
      String usage = w.usage();
      if (foreign < bestForeign) {
        best = value;
        bestForeign = foreign;
        bestAttempt = attempt;
        bestUsage = usage;
      }
      if (foreign <= CpuWatch.maxForeignPercent) {
        break;
      }
      log("%s %s run %d: %.4f %s, but %d%% of the busy CPU time was not ours%s",
          metric, target, run, value, unit, foreign, attempt <= CpuWatch.retries ? "; waiting and repeating" : "");
      if (attempt <= CpuWatch.retries) {
        CpuWatch.awaitQuiet();
      }
    }
    System.out.printf(Locale.ROOT, "RESULT %s %s run=%d %.4f %s foreign_cpu=%d%% attempt=%d %s%n",
        metric, target, run, best, unit, bestForeign, bestAttempt, bestUsage);
    return best;
  }

  // ---------------------------------------------------------------------------------- helpers

  static ManagedChannel channel(String address) {
    return NettyChannelBuilder.forTarget(address)
        .usePlaintext()
        .directExecutor()
        .maxInboundMessageSize(MAX_MESSAGE)
        .build();
  }

  static Digest digest(MessageDigest md, byte[] data) {
    return Digest.newBuilder().setHash(HEX.formatHex(md.digest(data))).setSizeBytes(data.length).build();
  }

  interface Worker {
    void run(int index) throws Exception;
  }

  static void runWorkers(int n, Worker worker) throws Exception {
    List<Thread> threads = new ArrayList<>();
    AtomicReference<Throwable> error = new AtomicReference<>();
    for (int i = 0; i < n; i++) {
      int index = i;
      threads.add(Thread.ofPlatform().name("load-" + i).start(() -> {
        try {
          worker.run(index);
        } catch (Throwable e) {
          error.compareAndSet(null, e);
        }
      }));
    }
    for (Thread th : threads) {
      th.join();
    }
    if (error.get() != null) {
      fail("worker failed: " + error.get());
    }
  }

  static void median(String metric, String target, List<Double> values, String unit) {
    List<Double> sorted = new ArrayList<>(values);
    Collections.sort(sorted);
    int n = sorted.size();
    double m = n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    System.out.printf(Locale.ROOT, "MEDIAN %s %s %.4f %s%n", metric, target, m, unit);
  }

  static void log(String format, Object... args) {
    System.err.printf(Locale.ROOT, "GrpcLoad: " + format + "%n", args);
  }

  static void fail(String message) {
    System.err.println("GrpcLoad: " + message);
    System.out.flush();
    System.exit(1);
  }

  /** --key value options; --target may repeat. */
  static final class Opts {
    final Map<String, String> values = new HashMap<>();
    final List<Target> targets = new ArrayList<>();
    final Set<String> flags = new HashSet<>();

    Opts(String[] args) {
      for (int i = 0; i < args.length; i++) {
        String a = args[i];
        if (!a.startsWith("--")) {
          fail("unexpected argument " + a);
        }
        String key = a.substring(2);
        if (key.equals("no-sync")) {
          flags.add(key);
          continue;
        }
        if (i + 1 >= args.length) {
          fail("option " + a + " needs a value");
        }
        String v = args[++i];
        if (key.equals("target")) {
          int eq = v.indexOf('=');
          if (eq <= 0) {
            fail("--target NAME=HOST:PORT, not " + v);
          }
          targets.add(new Target(v.substring(0, eq), v.substring(eq + 1)));
        } else {
          values.put(key, v);
        }
      }
    }

    List<Target> targets() {
      if (targets.isEmpty()) {
        fail("give at least one --target NAME=HOST:PORT");
      }
      return targets;
    }

    boolean flag(String key) {
      return flags.contains(key);
    }

    String string(String key, String def) {
      return values.getOrDefault(key, def);
    }

    int integer(String key, int def) {
      return values.containsKey(key) ? Integer.parseInt(values.get(key)) : def;
    }

    double decimal(String key, double def) {
      return values.containsKey(key) ? Double.parseDouble(values.get(key)) : def;
    }

    /** A byte count: plain, or with K/M/G (binary multiples). */
    long size(String key, long def) {
      String v = values.get(key);
      if (v == null) {
        return def;
      }
      v = v.toUpperCase(Locale.ROOT).replace("IB", "").replace("B", "");
      long mult = 1;
      char last = v.charAt(v.length() - 1);
      if (last == 'K' || last == 'M' || last == 'G') {
        mult = last == 'K' ? 1L << 10 : last == 'M' ? 1L << 20 : 1L << 30;
        v = v.substring(0, v.length() - 1);
      }
      return Long.parseLong(v) * mult;
    }
  }
}
