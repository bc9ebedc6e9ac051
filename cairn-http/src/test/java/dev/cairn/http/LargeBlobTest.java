package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.digest.Digest;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 1 GiB blob up and down through a server in this JVM, streamed at both ends. The bound on
 * the server's heap is proven by {@link LargeBlobIT}, which runs it under {@code -Xmx256m}.
 *
 * <p>The client is a bare socket (java.net.http would be the bottleneck) and checks what it gets
 * against the regenerated content rather than hashing it again. The store goes on tmpfs when it
 * has room: these tests are about the server's memory, not the disk's speed.
 */
class LargeBlobTest {
  static final long GIB = 1L << 30;
  private static final Path SHM = Path.of("/dev/shm");

  @TempDir Path dir;

  @Test
  void oneGibibyte_putAndGet_streamThrough() throws Exception {
    Path storeDir = storeDir(dir, GIB);
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir).withMaxSize(4 * GIB));
        HttpCacheServer server = new HttpCacheServer(
            new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), 2 * GIB, Duration.ofSeconds(60)),
            store, new CompletenessCheckingActionCache(new DiskActionCache(storeDir, store), store),
            Optional.of(BlobFiles.of(
                store::findByHash, store::pathOf, store::findIndexedByHash, store::blobPath)),
            new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
      server.start();
      Digest digest = PatternStream.digest(GIB, 42);
      put(server.address(), digest, 42);
      getAndCompare(server.address(), digest, 42);
      assertThat(store.stats().bytesUsed()).isEqualTo(GIB);
    } finally {
      deleteIfOnShm(storeDir);
    }
  }

  /** A fresh store directory on tmpfs if it has room for twice {@code size}, else under {@code fallback}. */
  static Path storeDir(Path fallback, long size) throws IOException {
    if (Files.isDirectory(SHM) && Files.getFileStore(SHM).getUsableSpace() > 2 * size + GIB) {
      return Files.createTempDirectory(SHM, "cairn-http-test-");
    }
    return fallback.resolve("store");
  }

  static void deleteIfOnShm(Path storeDir) throws IOException {
    if (!storeDir.startsWith(SHM) || !Files.exists(storeDir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(storeDir)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** PUTs the pattern's bytes as {@code /cas/<hash>}, streaming them from the generator. */
  static void put(InetSocketAddress server, Digest digest, long seed) throws IOException {
    try (RawHttp http = new RawHttp(server);
        PatternStream body = new PatternStream(digest.sizeBytes(), seed)) {
      http.send("PUT /cas/" + digest.hash() + " HTTP/1.1\r\nHost: cairn\r\nContent-Length: "
          + digest.sizeBytes() + "\r\n\r\n");
      OutputStream out = http.output();
      byte[] buf = new byte[1 << 20];
      for (int n; (n = body.read(buf, 0, buf.length)) > 0; ) {
        out.write(buf, 0, n);
      }
      out.flush();
      RawHttp.Response response = http.read();
      assertThat(response.status()).as(response.text()).isEqualTo(200);
    }
  }

  /** GETs {@code /cas/<hash>} and checks every byte against the regenerated pattern. */
  static void getAndCompare(InetSocketAddress server, Digest digest, long seed) throws IOException {
    try (RawHttp http = new RawHttp(server);
        PatternStream expected = new PatternStream(digest.sizeBytes(), seed)) {
      http.send("GET /cas/" + digest.hash() + " HTTP/1.1\r\nHost: cairn\r\n\r\n");
      RawHttp.Response head = http.readHead();
      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers().get("content-length")).isEqualTo(Long.toString(digest.sizeBytes()));
      InputStream in = http.input();
      byte[] got = new byte[1 << 20];
      byte[] want = new byte[1 << 20];
      long offset = 0;
      while (offset < digest.sizeBytes()) {
        int n = in.readNBytes(got, 0, (int) Math.min(got.length, digest.sizeBytes() - offset));
        assertThat(n).as("bytes at offset %d", offset).isPositive();
        assertThat(expected.readNBytes(want, 0, n)).isEqualTo(n);
        int mismatch = Arrays.mismatch(got, 0, n, want, 0, n);
        assertThat(mismatch).as("first differing byte after offset %d", offset).isEqualTo(-1);
        offset += n;
      }
    }
  }
}
