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
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CAS hits the disk store's index knows are answered on the event loop, without the blocking
 * path: the bytes and sizes are still exact, a damaged file is still never served, pipelined
 * requests mixing such hits with blocking lookups stay in order, and the meters still count.
 * The server's {@link BlobFiles} counts which path each lookup took.
 */
class IndexedHitsTest {
  @TempDir Path dir;
  DiskBlobStore store;
  PrometheusMeterRegistry registry;
  HttpCacheServer server;
  final AtomicInteger indexProbes = new AtomicInteger();
  final AtomicInteger probesOnVirtualThreads = new AtomicInteger();
  final AtomicInteger blockingLookups = new AtomicInteger();

  @BeforeEach
  void start() throws IOException {
    store = DiskBlobStore.open(DiskStoreConfig.at(dir.resolve("store")));
    BlobFiles disk = BlobFiles.of(
        store::findByHash, store::pathOf, store::findIndexedByHash, store::blobPath,
        listener -> store.addEvictionListener(DiskBlobStore.EvictionListener.ofRemovals(listener)));
    BlobFiles counting = new BlobFiles() {
      @Override
      public Optional<Digest> findByHash(String hash) throws IOException {
        blockingLookups.incrementAndGet();
        return disk.findByHash(hash);
      }

      @Override
      public Optional<Path> pathOf(Digest digest) throws IOException {
        return disk.pathOf(digest);
      }

      @Override
      public boolean onRemoval(java.util.function.Consumer<Digest> listener) {
        return disk.onRemoval(listener);
      }

      @Override
      public Optional<BlobFile> findIndexed(String hash) {
        indexProbes.incrementAndGet();
        if (Thread.currentThread().isVirtual()) {
          probesOnVirtualThreads.incrementAndGet();
        }
        return disk.findIndexed(hash);
      }
    };
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = new HttpCacheServer(
        new HttpCacheConfig(
            new InetSocketAddress("127.0.0.1", 0), 64L << 20, Duration.ofSeconds(30), openFiles()),
        store, new CompletenessCheckingActionCache(new DiskActionCache(store.root(), store), store),
        Optional.of(counting), registry);
    server.start();
  }

  /** How many blob files the server keeps open between requests: none here; see the subclass. */
  int openFiles() {
    return 0;
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
    store.close();
  }

  static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  static String get(String hash) {
    return "GET /cas/" + hash + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  static String head(String hash) {
    return "HEAD /cas/" + hash + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }

  @Test
  void hits_areAnsweredFromTheIndexOnTheEventLoop_withExactBytesAndSizes() throws Exception {
    byte[] small = randomBytes(4096, 1);
    byte[] large = randomBytes(3_000_000, 2);
    Digest s = store.put(small);
    Digest l = store.put(large);
    try (RawHttp raw = new RawHttp(server.address())) {
      for (int i = 0; i < 3; i++) {
        raw.send(get(s.hash()));
        RawHttp.Response r = raw.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("content-length")).isEqualTo("4096");
        assertThat(r.body()).isEqualTo(small);
      }
      raw.send(get(l.hash()) + head(l.hash()) + head(s.hash()));
      RawHttp.Response r = raw.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo(large);
      RawHttp.Response h = raw.read(true);
      assertThat(h.status()).isEqualTo(200);
      assertThat(h.headers().get("content-length")).isEqualTo("3000000");
      assertThat(raw.read(true).headers().get("content-length")).isEqualTo("4096");
    }
    assertThat(blockingLookups.get()).as("lookups that took the blocking path").isZero();
    assertThat(indexProbes.get()).isEqualTo(6);
    assertThat(probesOnVirtualThreads.get()).isZero();
  }

  @Test
  void blobsEitherSideOfTheReadLimit_areExact() throws Exception {
    int limit = HttpCache.READ_LIMIT;
    try (RawHttp raw = new RawHttp(server.address())) {
      for (int size : new int[] {1, limit - 1, limit, limit + 1}) {
        byte[] data = randomBytes(size, size);
        raw.send(get(store.put(data).hash()));
        RawHttp.Response r = raw.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.headers().get("content-length")).isEqualTo(String.valueOf(size));
        assertThat(r.body()).isEqualTo(data);
      }
      raw.send(head(DigestFunction.SHA256.emptyDigest().hash()));
      assertThat(raw.read(true).headers().get("content-length")).isEqualTo("0");
    }
  }

  @Test
  void truncatedBlobFile_isNotServed_andTheStoreDropsIt() throws Exception {
    truncatedBlobFile_isNotServed(10_000); // read whole: the read checks the size
    truncatedBlobFile_isNotServed(HttpCache.READ_LIMIT + 10_000); // sent by sendfile after fstat
  }

  private void truncatedBlobFile_isNotServed(int size) throws Exception {
    byte[] data = randomBytes(size, 3);
    Digest d = store.put(data);
    Path file = store.blobPath(d);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(size - 5_000);
    }
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().status()).isEqualTo(404);
      raw.send(head(d.hash()) + get(d.hash()));
      assertThat(raw.read(true).status()).isEqualTo(404);
      assertThat(raw.read().status()).isEqualTo(404);
    }
    assertThat(store.contains(d)).isFalse();
    assertThat(file).doesNotExist();
  }

  @Test
  void blobFileLongerThanItsDigest_isNotServed() throws Exception {
    blobFileLongerThanItsDigest_isNotServed(4096);
    blobFileLongerThanItsDigest_isNotServed(HttpCache.READ_LIMIT);
    blobFileLongerThanItsDigest_isNotServed(HttpCache.READ_LIMIT + 1);
  }

  private void blobFileLongerThanItsDigest_isNotServed(int size) throws Exception {
    byte[] data = randomBytes(size, 4);
    Digest d = store.put(data);
    Path file = store.blobPath(d);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    Files.write(file, new byte[] {1}, StandardOpenOption.APPEND);
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().status()).isEqualTo(404);
    }
    assertThat(store.contains(d)).isFalse();
  }

  @Test
  void fileDeletedBehindTheIndex_isAMiss() throws Exception {
    Digest d = store.put(randomBytes(4096, 5));
    Files.delete(store.blobPath(d));
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().status()).isEqualTo(404);
    }
  }

  @Test
  void shardDirectoryReplacedBehindTheServer_blobsAreStillServed() throws Exception {
    byte[] data = randomBytes(4096, 10);
    Digest d = store.put(data);
    Path file = store.blobPath(d);
    Path shard = file.getParent();
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().body()).isEqualTo(data); // the server now holds the shard open
      Path moved = dir.resolve("moved-shard");
      Files.move(shard, moved);
      Files.createDirectories(shard);
      Files.copy(moved.resolve(file.getFileName()), file);
      Files.delete(moved.resolve(file.getFileName()));
      for (int i = 0; i < 3; i++) {
        raw.send(get(d.hash()));
        RawHttp.Response r = raw.read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).isEqualTo(data);
      }
    }
    assertThat(blockingLookups.get()).as("only the request that met the stale directory").isEqualTo(1);
  }

  @Test
  void blobOfAnotherProcess_isFoundOnTheBlockingPath_thenFromTheIndex() throws Exception {
    byte[] data = randomBytes(4096, 6);
    Digest d;
    try (DiskBlobStore other = DiskBlobStore.open(DiskStoreConfig.at(store.root()))) {
      d = other.put(data);
    }
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(d.hash()));
      assertThat(raw.read().body()).isEqualTo(data);
      assertThat(blockingLookups.get()).isEqualTo(1);
      raw.send(get(d.hash()));
      assertThat(raw.read().body()).isEqualTo(data);
      assertThat(blockingLookups.get()).isEqualTo(1);
    }
  }

  @Test
  void pipelinedHitsMissesAndBlockingLookups_areAnsweredInOrder() throws Exception {
    byte[] a = randomBytes(4096, 7);
    byte[] b = randomBytes(100_000, 8);
    Digest da = store.put(a);
    Digest db = store.put(b);
    String missing = DigestFunction.SHA256.digestOf(new byte[] {42}).hash();
    String empty = DigestFunction.SHA256.emptyDigest().hash();
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(get(da.hash()) + get(missing) + get(db.hash())
          + "GET /ac/" + missing + " HTTP/1.1\r\nHost: x\r\n\r\n"
          + head(missing) + get(empty) + head(da.hash()) + get(da.hash()) + "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.read().body()).isEqualTo(a);
      assertThat(raw.read().status()).isEqualTo(404);
      assertThat(raw.read().body()).isEqualTo(b);
      assertThat(raw.read().status()).isEqualTo(404);
      assertThat(raw.read(true).status()).isEqualTo(404);
      RawHttp.Response emptyBlob = raw.read();
      assertThat(emptyBlob.status()).isEqualTo(200);
      assertThat(emptyBlob.body()).isEmpty();
      assertThat(raw.read(true).headers().get("content-length")).isEqualTo("4096");
      assertThat(raw.read().body()).isEqualTo(a);
      assertThat(raw.read().text().trim()).isEqualTo("ok");
    }
  }

  @Test
  void manyPipelinedHitsInOneWrite_areAllAnsweredInOrder() throws Exception {
    List<byte[]> blobs = new ArrayList<>();
    StringBuilder requests = new StringBuilder();
    for (int i = 0; i < 400; i++) {
      byte[] blob = randomBytes(100 + i, 100 + i);
      blobs.add(blob);
      requests.append(get(store.put(blob).hash()));
    }
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send(requests.toString());
      for (byte[] blob : blobs) {
        assertThat(raw.read().body()).isEqualTo(blob);
      }
    }
    assertThat(blockingLookups.get()).isZero();
  }

  @Test
  void hitsFromTheIndex_areCountedInTheMeters() throws Exception {
    byte[] data = randomBytes(4096, 9);
    Digest d = store.put(data);
    try (RawHttp raw = new RawHttp(server.address())) {
      for (int i = 0; i < 5; i++) {
        raw.send(get(d.hash()));
        assertThat(raw.read().status()).isEqualTo(200);
      }
      raw.send(head(d.hash()));
      assertThat(raw.read(true).status()).isEqualTo(200);
    }
    HttpCacheServerTest.waitFor(() -> registry.find("cairn.http.requests")
        .tags("method", "HEAD", "kind", "cas", "status", "200").timer() != null);
    assertThat(registry.get("cairn.http.requests")
        .tags("method", "GET", "kind", "cas", "status", "200").timer().count()).isEqualTo(5);
    assertThat(registry.get("cairn.http.requests")
        .tags("method", "HEAD", "kind", "cas", "status", "200").timer().count()).isEqualTo(1);
    assertThat(registry.get("cairn.http.lookups").tags("kind", "cas", "result", "hit")
        .counter().count()).isEqualTo(6);
    assertThat(registry.get("cairn.http.sent.bytes").counter().count()).isEqualTo(5 * 4096);
  }
}
