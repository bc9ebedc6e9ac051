package dev.cairn.fuse.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * A mount's counters ({@code --metrics-listen ADDR}): FUSE operations by opcode with their
 * latency, blobs and bytes fetched from the remote, local cache hits and misses, in Prometheus
 * text format on {@code /metrics}. Served by the JDK's own HTTP server on one thread, so a mount
 * needs no Netty; bound to 127.0.0.1 unless an address says otherwise.
 *
 * <p>Metric names: {@code cairn_fuse_operations_seconds} (tag {@code op}, e.g. {@code LOOKUP}),
 * {@code cairn_fuse_blobs_fetched_total}, {@code cairn_fuse_fetched_bytes_total}, {@code
 * cairn_fuse_cache_hits_total}, {@code cairn_fuse_cache_misses_total}. Thread-safe: recording is
 * a map lookup and an atomic add.
 */
public final class MountMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();
  private final Counter blobsFetched;
  private final Counter bytesFetched;
  private final Counter cacheHits;
  private final Counter cacheMisses;
  private HttpServer server; // guarded by this
  private ExecutorService serverThread; // guarded by this

  public MountMetrics() {
    blobsFetched = Counter.builder("cairn.fuse.blobs.fetched")
        .description("Blobs fetched from the remote into the mount's local store").register(registry);
    bytesFetched = Counter.builder("cairn.fuse.fetched").baseUnit("bytes")
        .description("Bytes of blobs fetched from the remote").register(registry);
    cacheHits = Counter.builder("cairn.fuse.cache.hits")
        .description("Opens whose blob was already in the local store").register(registry);
    cacheMisses = Counter.builder("cairn.fuse.cache.misses")
        .description("Opens whose blob had to be fetched").register(registry);
  }

  /** The registry, for meters other mount components add (e.g. the thrash detector's). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Records one FUSE operation {@code op} (the opcode's name) that took {@code nanos}. */
  public void operation(String op, long nanos) {
    timers.computeIfAbsent(op, o -> Timer.builder("cairn.fuse.operations")
        .description("FUSE requests served, by opcode").tag("op", o).register(registry))
        .record(Duration.ofNanos(nanos));
  }

  /** A blob of {@code bytes} was fetched from the remote. */
  public void blobFetched(long bytes) {
    blobsFetched.increment();
    bytesFetched.increment(bytes);
  }

  /** An open found its blob in the local store. */
  public void cacheHit() {
    cacheHits.increment();
  }

  /** An open had to fetch its blob. */
  public void cacheMiss() {
    cacheMisses.increment();
  }

  /** Everything in Prometheus text format, as {@code /metrics} serves it. */
  public String scrape() {
    return registry.scrape();
  }

  /**
   * Parses {@code --metrics-listen}: {@code PORT} (on 127.0.0.1), {@code HOST:PORT} or {@code
   * [IPV6]:PORT}.
   *
   * @throws IllegalArgumentException naming the text
   */
  public static InetSocketAddress parseListen(String text) {
    String t = text.trim();
    String host = "127.0.0.1";
    String port = t;
    int colon = t.lastIndexOf(':');
    if (colon >= 0) {
      host = t.substring(0, colon);
      port = t.substring(colon + 1);
      if (host.startsWith("[") && host.endsWith("]")) {
        host = host.substring(1, host.length() - 1);
      }
      if (host.isEmpty()) {
        throw new IllegalArgumentException("metrics address '" + text + "': empty host");
      }
    }
    int p;
    try {
      p = Integer.parseInt(port);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("metrics address '" + text + "': expected PORT or HOST:PORT");
    }
    if (p < 0 || p > 65535) {
      throw new IllegalArgumentException("metrics address '" + text + "': port out of range");
    }
    return new InetSocketAddress(host, p);
  }

  /** Serves {@code /metrics} on 127.0.0.1:{@code port} (0: any free port); see {@link #serve(InetSocketAddress)}. */
  public InetSocketAddress serve(int port) throws IOException {
    return serve(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
  }

  /**
   * Serves {@code /metrics} on {@code address} until {@link #close()}.
   *
   * @return the bound address (with the port chosen, if {@code address} had port 0)
   * @throws IllegalStateException if already serving
   */
  public synchronized InetSocketAddress serve(InetSocketAddress address) throws IOException {
    Objects.requireNonNull(address, "address");
    if (server != null) {
      throw new IllegalStateException("already serving metrics on " + server.getAddress());
    }
    if (address.isUnresolved()) {
      throw new IOException("metrics address " + address.getHostString() + ": cannot resolve host");
    }
    HttpServer s = HttpServer.create(address, 16);
    s.createContext("/", this::handle);
    serverThread = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "cairn-fuse-metrics");
      t.setDaemon(true);
      return t;
    });
    s.setExecutor(serverThread);
    s.start();
    server = s;
    return s.getAddress();
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      if (!ex.getRequestURI().getPath().equals("/metrics")) {
        reply(ex, 404, "text/plain; charset=utf-8", "not found: only /metrics is served here\n");
      } else if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
        ex.getResponseHeaders().set("Allow", "GET, HEAD");
        reply(ex, 405, "text/plain; charset=utf-8", "method not allowed\n");
      } else {
        reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8", scrape());
      }
    }
  }

  private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", type);
    boolean head = ex.getRequestMethod().equals("HEAD");
    ex.sendResponseHeaders(status, head ? -1 : bytes.length);
    if (!head) {
      try (OutputStream out = ex.getResponseBody()) {
        out.write(bytes);
      }
    }
  }

  /** Stops serving and releases the registry. */
  @Override
  public synchronized void close() {
    if (server != null) {
      server.stop(0);
      serverThread.shutdownNow();
      server = null;
    }
    registry.close();
  }
}
