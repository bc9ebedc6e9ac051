package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Every {@link IndexedHitsTest} again, with small blobs' files kept open between requests (as
 * {@code cairn serve} runs), and what keeping them open must not change: exact bytes, an evicted
 * or dropped blob's file closed at once and never served, a file damaged while open never
 * served, and no wrong byte while clients hammer blobs that are evicted and stored again.
 */
class KeptOpenFilesTest extends IndexedHitsTest {

  @Override
  int openFiles() {
    return HttpCacheConfig.DEFAULT_OPEN_FILES;
  }

  private double meter(String name, String tag, String value) {
    return registry.get(name).tags(tag, value).functionCounter().count();
  }

  private double openNow() {
    return registry.get("cairn.http.open.files").gauge().value();
  }

  /** This process's descriptors open on {@code file} (also once it is deleted). */
  static int descriptorsOn(Path file) throws IOException {
    int n = 0;
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().startsWith(file.toString())) {
            n++;
          }
        } catch (IOException e) {
          // closed while listed
        }
      }
    }
    return n;
  }

  @Test
  void repeatedHits_readTheKeptOpenFile_withExactBytes() throws Exception {
    byte[] small = randomBytes(4096, 20);
    byte[] large = randomBytes(HttpCache.READ_LIMIT + 1, 21);
    Digest s = store.put(small);
    Digest l = store.put(large);
    try (RawHttp raw = new RawHttp(server.address())) {
      for (int i = 0; i < 3; i++) {
        raw.send(get(s.hash()) + get(l.hash()));
        assertThat(raw.read().body()).isEqualTo(small);
        assertThat(raw.read().body()).isEqualTo(large);
      }
    }
    assertThat(meter("cairn.http.open.files.lookups", "result", "miss")).isEqualTo(1);
    assertThat(meter("cairn.http.open.files.lookups", "result", "hit")).isEqualTo(2);
    assertThat(openNow()).as("large blobs go by sendfile, not kept open").isEqualTo(1);
    assertThat(descriptorsOn(store.blobPath(s))).isEqualTo(1);
    HttpCacheServerTest.waitFor(() -> descriptorsOn(store.blobPath(l)) == 0);
    assertThat(blockingLookups.get()).isZero();
  }

  @Test
  void blobEvictedWhileKeptOpen_hasItsFileClosed_isAMiss_andIsExactWhenStoredAgain() throws Exception {
    byte[] data = randomBytes(4096, 22);
    Digest d = store.put(data);
    Path file = store.blobPath(d);
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().body()).isEqualTo(data);
      assertThat(descriptorsOn(file)).isEqualTo(1);
      store.gc(0);
      assertThat(descriptorsOn(file)).as("closed by the eviction, not held with its space").isZero();
      assertThat(meter("cairn.http.open.files.closed", "reason", "removed")).isEqualTo(1);
      raw.send(get(d.hash()) + head(d.hash()));
      assertThat(raw.read().status()).isEqualTo(404);
      assertThat(raw.read(true).status()).isEqualTo(404);
      store.put(d, new java.io.ByteArrayInputStream(data));
      for (int i = 0; i < 2; i++) {
        raw.send(get(d.hash()));
        assertThat(raw.read().body()).isEqualTo(data);
      }
    }
    assertThat(descriptorsOn(file)).isEqualTo(1);
  }

  @Test
  void blobEvictedByTheStoreLimit_hasItsFileClosed_andNeverMixesWithOtherBlobs() throws Exception {
    Path root = dir.resolve("small");
    try (DiskBlobStore small = DiskBlobStore.open(DiskStoreConfig.at(root).withMaxSize(3 * 4096));
        HttpCacheServer smallServer = serverOver(small, new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
      smallServer.start();
      List<byte[]> blobs = new ArrayList<>();
      List<Digest> digests = new ArrayList<>();
      try (RawHttp raw = new RawHttp(smallServer.address())) {
        for (int i = 0; i < 6; i++) {
          byte[] data = randomBytes(4096, 30 + i);
          blobs.add(data);
          digests.add(small.put(data)); // the fourth put evicts the first, and so on
          raw.send(get(digests.get(i).hash()));
          assertThat(raw.read().body()).isEqualTo(data);
        }
        for (int i = 0; i < 6; i++) {
          raw.send(get(digests.get(i).hash()));
          RawHttp.Response r = raw.read();
          if (i < 3) {
            assertThat(r.status()).isEqualTo(404);
            assertThat(descriptorsOn(small.blobPath(digests.get(i)))).isZero();
          } else {
            assertThat(r.body()).isEqualTo(blobs.get(i));
          }
        }
      }
    }
    assertThat(descriptorsOn(root)).as("the server's close closes every kept-open file").isZero();
  }

  private HttpCacheServer serverOver(DiskBlobStore s, PrometheusMeterRegistry meters) throws IOException {
    BlobFiles files = BlobFiles.of(
        s::findByHash, s::pathOf, s::findIndexedByHash, s::blobPath,
        listener -> s.addEvictionListener(DiskBlobStore.EvictionListener.ofRemovals(listener)));
    return new HttpCacheServer(
        new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), 64L << 20, Duration.ofSeconds(30)),
        s, new CompletenessCheckingActionCache(new DiskActionCache(s.root(), s), s),
        Optional.of(files), meters);
  }

  @Test
  void fileTruncatedWhileKeptOpen_isNotServed_andIsClosed() throws Exception {
    fileDamagedWhileKeptOpen_isNotServed(false);
  }

  @Test
  void fileGrownWhileKeptOpen_isNotServed_andIsClosed() throws Exception {
    fileDamagedWhileKeptOpen_isNotServed(true);
  }

  private void fileDamagedWhileKeptOpen_isNotServed(boolean grow) throws Exception {
    byte[] data = randomBytes(10_000, grow ? 24 : 23);
    Digest d = store.put(data);
    Path file = store.blobPath(d);
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().body()).isEqualTo(data);
      assertThat(descriptorsOn(file)).isEqualTo(1);
      Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
        if (grow) {
          ch.write(java.nio.ByteBuffer.wrap(new byte[] {1}), data.length);
        } else {
          ch.truncate(data.length - 1);
        }
      }
      raw.send(get(d.hash()) + head(d.hash()) + get(d.hash()));
      assertThat(raw.read().status()).isEqualTo(404);
      assertThat(raw.read(true).status()).isEqualTo(404);
      assertThat(raw.read().status()).isEqualTo(404);
    }
    assertThat(store.contains(d)).isFalse();
    assertThat(file).doesNotExist();
    assertThat(descriptorsOn(file)).isZero();
    assertThat(openNow()).isZero();
  }

  /**
   * Replaces {@link IndexedHitsTest}'s version: a blob served before its shard directory was
   * replaced is now read from its kept-open file (still exact), so the stale directory is met by
   * another blob of the same shard, served for the first time.
   */
  @Override
  @Test
  void shardDirectoryReplacedBehindTheServer_blobsAreStillServed() throws Exception {
    byte[] data = randomBytes(4096, 10);
    Digest d = store.put(data);
    byte[] other;
    Digest o;
    long seed = 1000;
    do {
      other = randomBytes(4096, seed++);
      o = DigestFunction.SHA256.digestOf(other);
    } while (!o.hash().startsWith(d.hash().substring(0, 2)));
    store.put(o, new java.io.ByteArrayInputStream(other));
    Path shard = store.blobPath(d).getParent();
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().body()).isEqualTo(data); // the server now holds the shard and d's file open
      Path moved = dir.resolve("moved-shard");
      Files.move(shard, moved);
      Files.createDirectories(shard);
      for (Digest x : List.of(d, o)) {
        Path name = store.blobPath(x).getFileName();
        Files.copy(moved.resolve(name), shard.resolve(name));
        Files.delete(moved.resolve(name));
      }
      for (int i = 0; i < 3; i++) {
        raw.send(get(d.hash()) + get(o.hash()));
        RawHttp.Response r = raw.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(data);
        r = raw.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(other);
      }
    }
    assertThat(blockingLookups.get()).as("only the request that met the stale directory").isEqualTo(1);
  }

  /**
   * Clients hammer hits over blobs that a writer keeps evicting (the store's limit holds a third
   * of them) and storing again: every 200's body hashes to its URL, and nothing else but 404
   * (evicted) is ever answered.
   */
  @Test
  void hitsWhileBlobsAreEvictedAndStoredAgain_neverReturnAWrongByte() throws Exception {
    Path root = dir.resolve("churn");
    int count = 60;
    PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    try (DiskBlobStore small = DiskBlobStore.open(DiskStoreConfig.at(root).withMaxSize(20L * 4096));
        HttpCacheServer churnServer = serverOver(small, meters)) {
      churnServer.start();
      List<byte[]> blobs = new ArrayList<>();
      List<Digest> digests = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        byte[] data = randomBytes(1000 + 61 * i, 500 + i); // sizes differ: a mix-up shows
        blobs.add(data);
        digests.add(DigestFunction.SHA256.digestOf(data));
      }
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong ok = new AtomicLong();
      AtomicLong missed = new AtomicLong();
      ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
      List<Thread> threads = new ArrayList<>();
      threads.add(Thread.ofPlatform().start(() -> {
        try {
          while (!stop.get()) {
            int i = ThreadLocalRandom.current().nextInt(count);
            small.put(digests.get(i), new java.io.ByteArrayInputStream(blobs.get(i)));
            if (ThreadLocalRandom.current().nextInt(50) == 0) {
              small.gc(5L * 4096);
            }
          }
        } catch (IOException e) {
          wrong.add("writer failed: " + e);
        }
      }));
      for (int c = 0; c < 4; c++) {
        threads.add(Thread.ofPlatform().start(() -> {
          try (RawHttp raw = new RawHttp(churnServer.address())) {
            java.security.MessageDigest sha = java.security.MessageDigest.getInstance("SHA-256");
            while (!stop.get()) {
              int[] pick = new int[8];
              StringBuilder batch = new StringBuilder();
              for (int k = 0; k < pick.length; k++) {
                pick[k] = ThreadLocalRandom.current().nextInt(count);
                batch.append(get(digests.get(pick[k]).hash()));
              }
              raw.send(batch.toString()); // pipelined: several event-loop reads in a row
              for (int i : pick) {
                RawHttp.Response r = raw.read();
                if (r.status() == 404) {
                  missed.incrementAndGet();
                } else if (r.status() != 200) {
                  wrong.add("status " + r.status() + " for blob " + i);
                } else if (!HexFormat.of().formatHex(sha.digest(r.body())).equals(digests.get(i).hash())) {
                  wrong.add("wrong bytes for blob " + i + ": " + r.body().length + " bytes");
                } else {
                  ok.incrementAndGet();
                }
              }
            }
          } catch (Exception e) {
            wrong.add("client failed: " + e);
          }
        }));
      }
      Thread.sleep(3000);
      stop.set(true);
      for (Thread t : threads) {
        t.join(10_000);
      }
      assertThat(wrong).isEmpty();
      assertThat(ok.get()).isGreaterThan(100);
      assertThat(missed.get()).isGreaterThan(0);
      assertThat(meters.get("cairn.http.open.files.lookups").tags("result", "hit")
          .functionCounter().count()).as("hits read kept-open files").isGreaterThan(0);
      assertThat(meters.get("cairn.http.open.files.closed").tags("reason", "removed")
          .functionCounter().count()).as("evictions closed kept-open files").isGreaterThan(0);
      int open = 0;
      for (Digest x : digests) {
        open += descriptorsOn(small.blobPath(x));
        if (!small.contains(x)) {
          assertThat(descriptorsOn(small.blobPath(x))).as("evicted " + x).isZero();
        }
      }
      assertThat(open).isLessThanOrEqualTo(count);
    }
    assertThat(descriptorsOn(root)).isZero();
  }
}
