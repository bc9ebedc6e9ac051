package dev.cairn.fuse.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.Test;

class MountMetricsTest {

  @Test
  void servesCountersAndTimersInPrometheusFormat_overHttp() throws Exception {
    try (MountMetrics metrics = new MountMetrics(); HttpClient http = HttpClient.newHttpClient()) {
      metrics.operation("LOOKUP", 2_000_000);
      metrics.operation("LOOKUP", 4_000_000);
      metrics.operation("READ", 1_000);
      metrics.blobFetched(1000);
      metrics.blobFetched(24);
      metrics.cacheHit();
      metrics.cacheHit();
      metrics.cacheMiss();
      InetSocketAddress bound = metrics.serve(0);
      assertThat(bound.getAddress().isLoopbackAddress()).as("loopback by default").isTrue();

      HttpResponse<String> r = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + bound.getPort() + "/metrics")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.headers().firstValue("content-type")).hasValueSatisfying(
          v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
      assertThat(r.body())
          .contains("cairn_fuse_operations_seconds_count{op=\"LOOKUP\"} 2")
          .contains("cairn_fuse_operations_seconds_sum{op=\"LOOKUP\"} 0.006")
          .contains("cairn_fuse_operations_seconds_count{op=\"READ\"} 1")
          .contains("cairn_fuse_blobs_fetched_total 2.0")
          .contains("cairn_fuse_fetched_bytes_total 1024.0")
          .contains("cairn_fuse_cache_hits_total 2.0")
          .contains("cairn_fuse_cache_misses_total 1.0");

      HttpResponse<String> other = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + bound.getPort() + "/")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(other.statusCode()).isEqualTo(404);
      HttpResponse<String> post = http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + bound.getPort() + "/metrics"))
          .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
      assertThatThrownBy(() -> metrics.serve(0)).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void close_stopsServing() throws Exception {
    MountMetrics metrics = new MountMetrics();
    int port = metrics.serve(0).getPort();
    metrics.close();
    try (HttpClient http = HttpClient.newHttpClient()) {
      assertThatThrownBy(() -> http.send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()))
          .isInstanceOf(java.io.IOException.class);
    }
  }

  @Test
  void parseListen_defaultsToLoopback_andRejectsNonsense() {
    assertThat(MountMetrics.parseListen("9100")).isEqualTo(new InetSocketAddress("127.0.0.1", 9100));
    assertThat(MountMetrics.parseListen("0.0.0.0:9100")).isEqualTo(new InetSocketAddress("0.0.0.0", 9100));
    assertThat(MountMetrics.parseListen("[::1]:9100")).isEqualTo(new InetSocketAddress("::1", 9100));
    for (String bad : java.util.List.of("", "abc", ":9100", "host:", "host:70000", "-1")) {
      assertThatThrownBy(() -> MountMetrics.parseListen(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("metrics address");
    }
  }
}
