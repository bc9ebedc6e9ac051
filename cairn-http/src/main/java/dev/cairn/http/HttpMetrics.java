package dev.cairn.http;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/**
 * The HTTP cache's meters, so that {@code /metrics} shows what clients do: requests by method,
 * kind and status (a timer: count and latency), body bytes in and out, and hits and misses of
 * CAS and action-cache lookups. Tag values come from small fixed sets. Thread-safe.
 *
 * <p>Each request's timer is looked up in a map of the few (method, kind, status) triples seen,
 * not built and registered anew: {@code Timer.builder(...).register} per request showed in the
 * profile of a GET load (it allocates a builder, tags and an id, and probes the registry).
 */
final class HttpMetrics {
  private static final Set<String> METHODS = Set.of("GET", "HEAD", "PUT");

  private final MeterRegistry registry;
  private final Counter received;
  private final Counter sent;
  private final Counter casHits;
  private final Counter casMisses;
  private final Counter acHits;
  private final Counter acMisses;
  private final Counter connections;
  private final ConcurrentMap<TimerKey, Timer> timers = new ConcurrentHashMap<>();

  private record TimerKey(String method, String kind, String status) {}

  HttpMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.received = Counter.builder("cairn.http.received.bytes")
        .description("Request body bytes received")
        .register(registry);
    this.sent = Counter.builder("cairn.http.sent.bytes")
        .description("Response body bytes sent")
        .register(registry);
    this.casHits = lookups("cas", "hit");
    this.casMisses = lookups("cas", "miss");
    this.acHits = lookups("ac", "hit");
    this.acMisses = lookups("ac", "miss");
    this.connections = Counter.builder("cairn.http.connections.accepted")
        .description("TCP connections accepted (few per client when keep-alive works)")
        .register(registry);
  }

  private Counter lookups(String kind, String result) {
    return Counter.builder("cairn.http.lookups")
        .description("GET and HEAD lookups of CAS blobs and action-cache entries")
        .tag("kind", kind)
        .tag("result", result)
        .register(registry);
  }

  /**
   * Publishes the open-file cache's figures, read at each scrape from its own adders (so a hit
   * costs one increment): lookups by result, files closed by reason, and files open now.
   */
  void openFiles(OpenBlobFiles files) {
    String lookups = "cairn.http.open.files.lookups";
    String lookupsHelp = "Small CAS hits whose file was already open (hit) or had to be opened (miss)";
    FunctionCounter.builder(lookups, files, OpenBlobFiles::hits)
        .description(lookupsHelp).tag("result", "hit").register(registry);
    FunctionCounter.builder(lookups, files, OpenBlobFiles::misses)
        .description(lookupsHelp).tag("result", "miss").register(registry);
    String closed = "cairn.http.open.files.closed";
    String closedHelp = "Kept-open blob files closed: replaced by others, or their blob removed by the store";
    FunctionCounter.builder(closed, files, OpenBlobFiles::replaced)
        .description(closedHelp).tag("reason", "replaced").register(registry);
    FunctionCounter.builder(closed, files, OpenBlobFiles::closedByStore)
        .description(closedHelp).tag("reason", "removed").register(registry);
    Gauge.builder("cairn.http.open.files", files, OpenBlobFiles::size)
        .description("Blob files kept open between requests (at most " + files.capacity() + ")")
        .register(registry);
  }

  MeterRegistry registry() {
    return registry;
  }

  Timer.Sample start() {
    return Timer.start(registry);
  }

  /** Records a finished request; {@code status} is the code sent, or "aborted". */
  void request(Timer.Sample sample, String method, String kind, String status) {
    TimerKey key = new TimerKey(METHODS.contains(method) ? method : "other", kind, status);
    Timer timer = timers.get(key);
    if (timer == null) {
      timer = timers.computeIfAbsent(key, this::timer);
    }
    sample.stop(timer);
  }

  private Timer timer(TimerKey key) {
    return Timer.builder("cairn.http.requests")
        .description("HTTP requests by method, kind (cas, ac, healthz, metrics, other) and status")
        .tag("method", key.method())
        .tag("kind", key.kind())
        .tag("status", key.status())
        .register(registry);
  }

  void connectionAccepted() {
    connections.increment();
  }

  void received(long bytes) {
    received.increment(bytes);
  }

  void sent(long bytes) {
    sent.increment(bytes);
  }

  void lookup(RequestPath.Kind kind, boolean hit) {
    switch (kind) {
      case CAS -> (hit ? casHits : casMisses).increment();
      case AC -> (hit ? acHits : acMisses).increment();
    }
  }
}
