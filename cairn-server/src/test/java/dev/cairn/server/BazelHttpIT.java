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

/** Real Bazel 4.2.3 against a real Cairn server over the HTTP cache protocol. */
class BazelHttpIT {
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

  @Test
  void cleanRebuild_isAllRemoteCacheHits_withAndWithoutPathPrefix() throws Exception {
    for (String prefix : new String[] {"", "/team/cache"}) {
      String cache = "--remote_cache=http://127.0.0.1:" + server.httpAddress().getPort() + prefix;
      String salt = prefix.isEmpty() ? "http" : "prefixed";
      try (BazelWorkspace ws = new BazelWorkspace(Files.createDirectories(dir.resolve("ws-" + salt)),
          BazelWorkspace.genrules(salt))) {
        assertThat(ws.build(cache).remoteCacheHits()).isZero();
        ws.run("clean");
        BazelWorkspace.Result second = ws.build(cache);
        assertThat(second.remoteCacheHits()).as(second.output()).isEqualTo(3);
        assertThat(Files.readString(ws.workspace.resolve("bazel-bin/a/b/two.txt"))).isEqualTo(salt + " two\n");
        ws.run("clean");
        BazelWorkspace.Result minimal = ws.build(cache, "--remote_download_minimal");
        assertThat(minimal.remoteCacheHits()).as(minimal.output()).isEqualTo(3);
      }
    }
    String metrics = new String(java.net.http.HttpClient.newHttpClient().send(
        java.net.http.HttpRequest.newBuilder(java.net.URI.create(
            "http://127.0.0.1:" + server.httpAddress().getPort() + "/metrics")).build(),
        java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body());
    assertThat(metrics).contains("cairn_store_used_bytes");
  }
}
