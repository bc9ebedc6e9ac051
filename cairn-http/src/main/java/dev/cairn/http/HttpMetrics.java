package dev.cairn.http;

import io.micrometer.core.instrument.Counter;
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
