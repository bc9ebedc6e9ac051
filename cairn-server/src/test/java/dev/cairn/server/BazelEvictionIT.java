package dev.cairn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.store.disk.DiskStoreConfig;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cache several times too small for what a series of builds uploads: every build still
 * succeeds (a result whose blobs were evicted is a miss, never a "missing digest" failure), also
 * with --remote_download_minimal, where Bazel trusts the cache to keep what it reported.
 */
class BazelEvictionIT {
  @TempDir Path dir;

  @Test
  void tooSmallCache_neverFailsABuild() throws Exception {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    long maxSize = 7L * 1000 * 1000; // two builds' worth; six builds upload about 18 MB
    try (CairnServer server = CairnServer.start(ServerConfig.defaults(
            new StoreConfig.Disk(DiskStoreConfig.at(dir.resolve("store")).withMaxSize(maxSize)))
            .withListen(any, any));
        BazelWorkspace ws = new BazelWorkspace(Files.createDirectories(dir.resolve("ws")), BazelWorkspace.genrules("s0"))) {
      String cache = "--remote_cache=grpc://127.0.0.1:" + server.grpcAddress().getPort();
      int hits = 0;
      for (int round = 0; round < 2; round++) {
        for (int salt = 0; salt < 6; salt++) {
          ws.writeBuild(BazelWorkspace.genrules("s" + salt));
          ws.run("clean");
          BazelWorkspace.Result r = ws.build(cache, "--remote_download_minimal");
          hits += r.remoteCacheHits();
          // What was just uploaded fits: a clean rebuild of the same thing is all hits.
          ws.run("clean");
          assertThat(ws.build(cache, "--remote_download_minimal").remoteCacheHits()).isEqualTo(3);
          assertThat(server.stores().disk(dev.cairn.core.digest.DigestFunction.SHA256).orElseThrow()
              .stats().bytesUsed()).isLessThanOrEqualTo(maxSize);
        }
      }
      // Outputs are right after all that churn.
      ws.build(cache, "--remote_download_toplevel");
      assertThat(Files.readString(ws.workspace.resolve("bazel-bin/a/b/two.txt"))).isEqualTo("s5 two\n");
      assertThat(server.stores().disk(dev.cairn.core.digest.DigestFunction.SHA256).orElseThrow()
          .stats().evictions()).as("the cache really was under pressure").isPositive();
      assertThat(hits).as("older results were evicted: misses, not failures").isLessThan(12 * 3);
    }
  }
}
