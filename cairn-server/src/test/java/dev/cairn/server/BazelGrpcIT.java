package dev.cairn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.store.disk.DiskStoreConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real Bazel 4.2.3 against a real Cairn server over gRPC: a clean rebuild is all cache hits. */
class BazelGrpcIT {
  @TempDir Path dir;
  private CairnServer server;

  @BeforeEach
  void startServer() throws Exception {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    server = CairnServer.start(ServerConfig.defaults(new StoreConfig.Disk(DiskStoreConfig.at(dir.resolve("store"))))
        .withListen(any, any));
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  private String cache() {
    return "--remote_cache=grpc://127.0.0.1:" + server.grpcAddress().getPort();
  }

  @Test
  void cleanRebuild_isAllRemoteCacheHits() throws Exception {
    try (BazelWorkspace ws = new BazelWorkspace(Files.createDirectories(dir.resolve("plain")), BazelWorkspace.genrules("plain"))) {
      BazelWorkspace.Result first = ws.build(cache());
      assertThat(first.remoteCacheHits()).isZero();
      ws.run("clean");
      BazelWorkspace.Result second = ws.build(cache());
      assertThat(second.remoteCacheHits()).as(second.output()).isEqualTo(3);
      assertThat(Files.readString(ws.workspace.resolve("bazel-bin/a/b/two.txt"))).isEqualTo("plain two\n");
      assertThat(Files.size(ws.workspace.resolve("bazel-bin/big.bin"))).isEqualTo(3_000_000 + "plain\n".length());
    }
    // Bazel's calls are timed on /metrics by method and status code.
    String metrics = new String(java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(
            "http://127.0.0.1:" + server.httpAddress().getPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body());
    assertThat(metrics)
        .containsPattern("cairn_grpc_requests_seconds_count\\{code=\"OK\",method=\"ActionCache/GetActionResult\"} [1-9]")
        .containsPattern("cairn_grpc_requests_seconds_count\\{code=\"OK\",method=\"ContentAddressableStorage/FindMissingBlobs\"} [1-9]");
  }

  @Test
  void withDownloadMinimal_andInstanceName() throws Exception {
    try (BazelWorkspace ws = new BazelWorkspace(Files.createDirectories(dir.resolve("minimal")), BazelWorkspace.genrules("minimal"))) {
      ws.build(cache(), "--remote_instance_name=team/a", "--remote_download_minimal");
      ws.run("clean");
      BazelWorkspace.Result hit = ws.build(cache(), "--remote_instance_name=team/a", "--remote_download_minimal");
      assertThat(hit.remoteCacheHits()).as(hit.output()).isEqualTo(3);
      ws.run("clean");
      // Another instance name is another action cache: nothing to hit.
      BazelWorkspace.Result other = ws.build(cache(), "--remote_instance_name=team/b");
      assertThat(other.remoteCacheHits()).as(other.output()).isZero();
      assertThat(Files.readString(ws.workspace.resolve("bazel-bin/hello.txt"))).isEqualTo("hello minimal\n");
    }
  }
}
