package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.OutputFile;
import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The HTTP cache over a real disk store, on a real port, through real HTTP clients. */
class HttpCacheServerTest {
  private static final long MAX_UPLOAD = 64L << 20;

  @TempDir Path dir;
  private DiskBlobStore store;
  private PrometheusMeterRegistry registry;
  private HttpCacheServer server;
  private HttpClient http;

  @BeforeEach
  void start() throws IOException {
    store = DiskBlobStore.open(DiskStoreConfig.at(dir.resolve("store")));
    startServer(MAX_UPLOAD);
    http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  }

  private void startServer(long maxUpload) throws IOException {
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = new HttpCacheServer(
        new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), maxUpload, Duration.ofSeconds(30)),
        store,
        new CompletenessCheckingActionCache(new DiskActionCache(store.root(), store), store),
        Optional.of(BlobFiles.of(
                store::findByHash, store::pathOf, store::findIndexedByHash, store::blobPath)),
        registry);
    server.start();
  }

  @AfterEach
  void stop() throws IOException {
    http.close();
    server.close();
    store.close();
  }

  private URI uri(String path) {
    return URI.create("http://127.0.0.1:" + server.address().getPort() + path);
  }

  private HttpResponse<byte[]> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), BodyHandlers.ofByteArray());
  }

  private HttpResponse<Void> head(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).HEAD().build(), BodyHandlers.discarding());
  }

  private HttpResponse<String> put(String path, byte[] body) throws Exception {
    return http.send(HttpRequest.newBuilder(uri(path)).PUT(BodyPublishers.ofByteArray(body)).build(),
        BodyHandlers.ofString());
  }

  private static byte[] randomBytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static Digest sha256(byte[] b) {
    return DigestFunction.SHA256.digestOf(b);
  }

  @Test
  void cas_putThenGet_returnsTheBytes_andHeadTheSize() throws Exception {
    byte[] data = randomBytes(3_000_000, 1);
    Digest d = sha256(data);
    assertThat(put("/cas/" + d.hash(), data).statusCode()).isEqualTo(200);
    assertThat(store.contains(d)).isTrue();

    HttpResponse<byte[]> got = get("/cas/" + d.hash());
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.headers().firstValueAsLong("content-length")).hasValue(data.length);
    assertThat(got.body()).isEqualTo(data);

    HttpResponse<Void> h = head("/cas/" + d.hash());
    assertThat(h.statusCode()).isEqualTo(200);
    assertThat(h.headers().firstValueAsLong("content-length")).hasValue(data.length);
  }

  @Test
  void cas_emptyBlob_isAlwaysThere() throws Exception {
    String empty = DigestFunction.SHA256.emptyDigest().hash();
    assertThat(put("/cas/" + empty, new byte[0]).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> got = get("/cas/" + empty);
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).isEmpty();
  }

  @Test
  void blobsStoredBeforeARestart_areFoundByHash() throws Exception {
    byte[] data = randomBytes(1000, 2);
    Digest d = store.put(data); // not through HTTP: the server never saw its size
    HttpResponse<byte[]> got = get("/cas/" + d.hash());
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).isEqualTo(data);
  }

  @Test
  void pathPrefixes_areKept_lastTwoSegmentsDecide() throws Exception {
    byte[] data = "prefixed".getBytes(StandardCharsets.UTF_8);
    Digest d = sha256(data);
    assertThat(put("/prefix/cas/" + d.hash(), data).statusCode()).isEqualTo(200);
    assertThat(get("/other/prefix/cas/" + d.hash()).body()).isEqualTo(data);
    assertThat(put("/a/b/ac/" + d.hash(), data).statusCode()).isEqualTo(200);
    assertThat(get("/ac/" + d.hash()).body()).isEqualTo(data);
  }

  @Test
  void misses_are404() throws Exception {
    String hash = sha256(new byte[] {9}).hash();
    assertThat(get("/cas/" + hash).statusCode()).isEqualTo(404);
    assertThat(head("/cas/" + hash).statusCode()).isEqualTo(404);
    assertThat(get("/ac/" + hash).statusCode()).isEqualTo(404);
    assertThat(head("/ac/" + hash).statusCode()).isEqualTo(404);
  }

  @Test
  void put_withWrongHash_is400_andStoresNothing() throws Exception {
    byte[] data = randomBytes(200_000, 3);
    String claimed = sha256("something else".getBytes(StandardCharsets.UTF_8)).hash();
    HttpResponse<String> r = put("/cas/" + claimed, data);
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("digest mismatch");
    assertThat(store.stats().blobCount()).isZero();
    assertThat(store.contains(sha256(data))).isFalse();
    assertThat(get("/cas/" + claimed).statusCode()).isEqualTo(404);
    // The connection survives a rejected upload.
    assertThat(get("/healthz").statusCode()).isEqualTo(200);
  }

  @Test
  void ac_storesOpaqueBytes() throws Exception {
    byte[] value = "ccache's own result format \0\1\2, not a proto".getBytes(StandardCharsets.UTF_8);
    String key = sha256("some action".getBytes(StandardCharsets.UTF_8)).hash();
    assertThat(put("/ac/" + key, value).statusCode()).isEqualTo(200);
    assertThat(get("/ac/" + key).body()).isEqualTo(value);
    assertThat(head("/ac/" + key).headers().firstValueAsLong("content-length")).hasValue(value.length);
    byte[] replaced = "second value".getBytes(StandardCharsets.UTF_8);
    assertThat(put("/ac/" + key, replaced).statusCode()).isEqualTo(200);
    assertThat(get("/ac/" + key).body()).isEqualTo(replaced);
  }

  @Test
  void ac_resultWhoseOutputIsMissing_isAMiss_untilTheOutputIsUploaded() throws Exception {
    byte[] output = randomBytes(5000, 4);
    Digest outputDigest = sha256(output);
    byte[] result = ActionResult.newBuilder()
        .addOutputFiles(OutputFile.newBuilder().setPath("out/a.o").setDigest(outputDigest.toProto()))
        .build().toByteArray();
    String key = sha256("compile a.c".getBytes(StandardCharsets.UTF_8)).hash();
    assertThat(put("/ac/" + key, result).statusCode()).isEqualTo(200);
    assertThat(get("/ac/" + key).statusCode()).isEqualTo(404);

    assertThat(put("/cas/" + outputDigest.hash(), output).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> hit = get("/ac/" + key);
    assertThat(hit.statusCode()).isEqualTo(200);
    assertThat(ActionResult.parseFrom(hit.body()).getOutputFiles(0).getPath()).isEqualTo("out/a.o");
  }

  @Test
  void badRequests_getTheRightStatus() throws Exception {
    String hash = sha256(new byte[] {1}).hash();
    assertThat(get("/cas/" + hash.toUpperCase()).statusCode()).isEqualTo(400);
    assertThat(get("/ac/abc").statusCode()).isEqualTo(400);
    assertThat(get("/nothing/here").statusCode()).isEqualTo(404);
    assertThat(get("/").statusCode()).isEqualTo(404);
    HttpResponse<String> delete = http.send(
        HttpRequest.newBuilder(uri("/cas/" + hash)).DELETE().build(), BodyHandlers.ofString());
    assertThat(delete.statusCode()).isEqualTo(405);
    assertThat(delete.headers().firstValue("allow")).hasValue("GET, HEAD, PUT");
    assertThat(put("/healthz", new byte[] {1}).statusCode()).isEqualTo(405);

    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send("GET /x/../cas/" + hash + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(400);
      raw.send("GET /x%00y/cas/" + hash + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(400);
      raw.send("PUT /cas/" + hash + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\n\1\r\n0\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(411);
    }
  }

  @Test
  void tooLargeUpload_is413_beforeTheBodyIsSent() throws Exception {
    server.close();
    startServer(1000);
    byte[] data = randomBytes(5000, 5);
    Digest d = sha256(data);
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(uri("/cas/" + d.hash())).expectContinue(true)
            .PUT(BodyPublishers.ofByteArray(data)).build(),
        BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("5000 bytes is larger than the limit of 1000");
    assertThat(store.contains(d)).isFalse();
  }

  @Test
  void expectContinue_upload_isAccepted() throws Exception {
    byte[] data = randomBytes(100_000, 6);
    Digest d = sha256(data);
    HttpResponse<String> r = http.send(
        HttpRequest.newBuilder(uri("/cas/" + d.hash())).expectContinue(true)
            .PUT(BodyPublishers.ofByteArray(data)).build(),
        BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(store.contains(d)).isTrue();
  }

  @Test
  void keepAlive_servesManyRequestsOnOneConnection_andPipelinedOnesInOrder() throws Exception {
    byte[] a = "first".getBytes(StandardCharsets.UTF_8);
    byte[] b = "second".getBytes(StandardCharsets.UTF_8);
    store.put(a);
    store.put(b);
    try (RawHttp raw = new RawHttp(server.address())) {
      String req = "GET /cas/%s HTTP/1.1\r\nHost: x\r\n\r\n";
      raw.send(req.formatted(sha256(a).hash()) + "HEAD /cas/" + sha256(b).hash()
          + " HTTP/1.1\r\nHost: x\r\n\r\n" + req.formatted(sha256(b).hash()));
      assertThat(raw.read().body()).isEqualTo(a);
      RawHttp.Response headed = raw.read(true);
      assertThat(headed.headers().get("content-length")).isEqualTo(String.valueOf(b.length));
      assertThat(raw.read().body()).isEqualTo(b);
      for (int i = 0; i < 20; i++) {
        raw.send(req.formatted(sha256(a).hash()));
        assertThat(raw.read().status()).isEqualTo(200);
      }
    }
    for (int i = 0; i < 10; i++) {
      assertThat(get("/cas/" + sha256(a).hash()).statusCode()).isEqualTo(200);
    }
    assertThat(registry.get("cairn.http.connections.accepted").counter().count()).isEqualTo(2.0);
  }

  @Test
  void concurrentRequests_allSucceed() throws Exception {
    int n = 32;
    List<byte[]> blobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      blobs.add(randomBytes(50_000 + i * 1000, 100 + i));
    }
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<Boolean>> results = new ArrayList<>();
      for (byte[] blob : blobs) {
        Callable<Boolean> roundTrip = () -> {
          String path = "/cas/" + sha256(blob).hash();
          return put(path, blob).statusCode() == 200
              && java.util.Arrays.equals(get(path).body(), blob)
              && put("/ac/" + sha256(blob).hash(), blob).statusCode() == 200;
        };
        results.add(pool.submit(roundTrip));
      }
      for (Future<Boolean> r : results) {
        assertThat(r.get()).isTrue();
      }
    }
    assertThat(store.stats().blobCount()).isEqualTo(n);
  }

  @Test
  void clientDisconnectMidPut_leavesNothingVisible() throws Exception {
    byte[] data = randomBytes(4 << 20, 7);
    Digest d = sha256(data);
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send("PUT /cas/" + d.hash() + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + data.length + "\r\n\r\n");
      raw.send(java.util.Arrays.copyOf(data, 1 << 20));
      waitFor(() -> registry.get("cairn.http.received.bytes").counter().count() > 0);
    }
    waitFor(() -> registry.find("cairn.http.requests").tag("status", "aborted").timer() != null);
    waitFor(() -> {
      try (Stream<Path> temps = Files.list(store.root().resolve("tmp"))) {
        return temps.findAny().isEmpty();
      }
    });
    assertThat(store.contains(d)).isFalse();
    assertThat(get("/cas/" + d.hash()).statusCode()).isEqualTo(404);
  }

  @Test
  void close_letsARequestInFlightFinish() throws Exception {
    byte[] data = randomBytes(2 << 20, 8);
    Digest d = sha256(data);
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send("PUT /cas/" + d.hash() + " HTTP/1.1\r\nHost: x\r\nContent-Length: " + data.length + "\r\n\r\n");
      raw.send(java.util.Arrays.copyOf(data, 1 << 20));
      waitFor(() -> registry.get("cairn.http.received.bytes").counter().count() > 0);
      Thread closer = Thread.ofVirtual().start(server::close);
      Thread.sleep(300);
      assertThat(closer.isAlive()).as("close waits for the upload").isTrue();
      raw.send(java.util.Arrays.copyOfRange(data, 1 << 20, data.length));
      RawHttp.Response r = raw.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.headers().get("connection")).isEqualTo("close");
      closer.join(10_000);
      assertThat(closer.isAlive()).isFalse();
    }
    assertThat(store.contains(d)).isTrue();
    assertThatThrownBy(() -> new RawHttp(server.address()).close()).isInstanceOf(IOException.class);
  }

  @Test
  void start_onATakenPort_failsNamingTheAddress() throws Exception {
    InetSocketAddress taken = server.address();
    HttpCacheServer second = new HttpCacheServer(
        new HttpCacheConfig(taken, MAX_UPLOAD, Duration.ofSeconds(5)), store,
        new DiskActionCache(store.root(), store), Optional.empty(),
        new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    assertThatThrownBy(second::start)
        .isInstanceOf(IOException.class)
        .hasMessageContaining("127.0.0.1:" + taken.getPort());
  }

  @Test
  void malformedRequest_is400_andTheConnectionCloses() throws Exception {
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send("PUT /cas/" + "a".repeat(64) + " HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(400);
      assertThat(raw.closedByServer()).isTrue();
    }
  }

  @Test
  void idleConnections_areClosedAfterTheIdleTimeout() throws Exception {
    server.close();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = new HttpCacheServer(
        new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), MAX_UPLOAD, Duration.ofMillis(300)),
        store, new DiskActionCache(store.root(), store), Optional.empty(), registry);
    server.start();
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.read().status()).isEqualTo(200);
      long start = System.nanoTime();
      assertThat(raw.closedByServer()).isTrue();
      assertThat(System.nanoTime() - start).isGreaterThan(200_000_000L);
    }
    // A stalled upload is cut off too, and leaves nothing behind.
    try (RawHttp raw = new RawHttp(server.address())) {
      raw.send("PUT /cas/" + "b".repeat(64) + " HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nhalf");
      assertThat(raw.closedByServer()).isTrue();
    }
    waitFor(() -> registry.find("cairn.http.requests").tag("status", "aborted").timer() != null);
  }

  @Test
  void actionValuesInFlight_areBoundedInMemory_excessIs503() throws Exception {
    server.close();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = new HttpCacheServer(
        new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), MAX_UPLOAD, Duration.ofSeconds(30)),
        store, new DiskActionCache(store.root(), store), Optional.empty(), registry);
    server.actionBodyBudget(100);
    server.start();
    String key = sha256(new byte[] {5}).hash();
    try (RawHttp slow = new RawHttp(server.address())) {
      // 80 of the 100 budget bytes are held while this body is incomplete.
      slow.send("PUT /ac/" + key + " HTTP/1.1\r\nHost: x\r\nContent-Length: 80\r\n\r\n" + "x".repeat(40));
      waitFor(() -> registry.get("cairn.http.received.bytes").counter().count() >= 40);
      HttpResponse<String> busy = put("/ac/" + key, new byte[30]);
      assertThat(busy.statusCode()).isEqualTo(503);
      assertThat(busy.headers().firstValue("retry-after")).hasValue("1");
      slow.send("x".repeat(40));
      assertThat(slow.read().status()).isEqualTo(200);
    }
    assertThat(put("/ac/" + key, new byte[30]).statusCode()).isEqualTo(200);
    assertThat(put("/ac/" + key, new byte[90]).statusCode()).isEqualTo(200); // all released again
  }

  @Test
  void healthz_isOk() throws Exception {
    HttpResponse<byte[]> r = get("/healthz");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(new String(r.body(), StandardCharsets.UTF_8).trim()).isEqualTo("ok");
  }

  @Test
  void metrics_showRequestsBytesLookupsAndStoreUsage() throws Exception {
    server.registerStoreUsage(() -> {
      DiskBlobStore.Stats s = store.stats();
      return new HttpCacheServer.StoreUsage(s.bytesUsed(), s.blobCount(), s.maxSizeBytes());
    });
    byte[] data = randomBytes(1234, 9);
    Digest d = sha256(data);
    put("/cas/" + d.hash(), data);
    get("/cas/" + d.hash());
    get("/cas/" + sha256(new byte[] {1}).hash());
    get("/ac/" + d.hash());
    HttpResponse<byte[]> r = get("/metrics");
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.headers().firstValue("content-type").orElseThrow()).startsWith("text/plain");
    String text = new String(r.body(), StandardCharsets.UTF_8);
    assertThat(text)
        .contains("cairn_http_requests_seconds_count{kind=\"cas\",method=\"PUT\",status=\"200\"} 1")
        .contains("cairn_http_requests_seconds_count{kind=\"cas\",method=\"GET\",status=\"404\"} 1")
        .contains("cairn_http_lookups_total{kind=\"cas\",result=\"hit\"} 1.0")
        .contains("cairn_http_lookups_total{kind=\"cas\",result=\"miss\"} 1.0")
        .contains("cairn_http_lookups_total{kind=\"ac\",result=\"miss\"} 1.0")
        .contains("cairn_http_received_bytes_total 1234.0")
        .contains("cairn_store_blobs 1.0")
        .contains("cairn_store_used_bytes 1234.0");
    // The blob plus the two 404 messages.
    assertThat(registry.get("cairn.http.sent.bytes").counter().count()).isGreaterThan(1234);
  }

  @Test
  void withoutBlobFiles_blobsStreamFromTheStore_andSizesComeFromPuts() throws Exception {
    server.close();
    InMemoryBlobStore memory = new InMemoryBlobStore();
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = new HttpCacheServer(
        new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), MAX_UPLOAD, Duration.ofSeconds(30)),
        memory, new CompletenessCheckingActionCache(new DiskActionCache(dir.resolve("ac"), memory), memory),
        Optional.empty(), registry);
    server.start();
    byte[] data = randomBytes(5_000_000, 10);
    Digest d = sha256(data);
    assertThat(put("/cas/" + d.hash(), data).statusCode()).isEqualTo(200);
    HttpResponse<byte[]> got = get("/cas/" + d.hash());
    assertThat(got.statusCode()).isEqualTo(200);
    assertThat(got.body()).isEqualTo(data);
    assertThat(head("/cas/" + d.hash()).statusCode()).isEqualTo(200);
    memory.remove(d);
    assertThat(get("/cas/" + d.hash()).statusCode()).isEqualTo(404);
    assertThat(head("/cas/" + d.hash()).statusCode()).isEqualTo(404);
  }

  interface Condition {
    boolean holds() throws Exception;
  }

  static void waitFor(Condition condition) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within 10 s");
      }
      Thread.sleep(10);
    }
  }
}
