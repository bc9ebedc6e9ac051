package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ccache 4.7 (Debian package {@code ccache}) against the server: with {@code layout=bazel} it
 * stores its entries under {@code /ac/}, and a compile with a wiped local cache is a remote hit.
 * Fails, rather than skips, when ccache or gcc is missing.
 */
class CcacheIT {
  @TempDir Path dir;
  private DiskBlobStore store;
  private PrometheusMeterRegistry registry;
  private HttpCacheServer server;
  private Path source;
  private Path emptyConfig;
  private int compiles;

  @BeforeEach
  void start() throws Exception {
    requireTool("ccache", "--version");
    requireTool("gcc", "--version");
    store = DiskBlobStore.open(DiskStoreConfig.at(dir.resolve("store")));
    registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    server = new HttpCacheServer(
        new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), 1L << 30, Duration.ofSeconds(30)),
        store, new CompletenessCheckingActionCache(new DiskActionCache(store.root(), store), store),
        Optional.of(BlobFiles.of(
                store::findByHash, store::pathOf, store::findIndexedByHash, store::blobPath)), registry);
    server.start();
    source = dir.resolve("src/hello.c");
    Files.createDirectories(source.getParent());
    Files.writeString(source, """
        #include <stdio.h>
        static const char greeting[] = "hello from cairn";
        int main(void) { puts(greeting); return 0; }
        """);
    emptyConfig = Files.writeString(dir.resolve("ccache.conf"), "");
  }

  @AfterEach
  void stop() throws IOException {
    server.close();
    store.close();
  }

  @Test
  void bazelLayout_compileWithAWipedLocalCache_isARemoteHit() throws Exception {
    String remote = "http://127.0.0.1:" + server.address().getPort() + "/ccache|layout=bazel";

    Map<String, Long> first = compile(remote);
    assertThat(first.get("remote_storage_write")).as("entries written to the server").isPositive();
    byte[] built = Files.readAllBytes(objectFile());

    Map<String, Long> second = compile(remote); // a fresh, empty local cache
    assertThat(second.get("remote_storage_hit")).as("remote hits, from %s", second).isEqualTo(1);
    assertThat(second.getOrDefault("remote_storage_error", 0L)).isZero();
    assertThat(Files.readAllBytes(objectFile())).isEqualTo(built);

    assertThat(registry.get("cairn.http.requests").tags("kind", "ac", "method", "PUT", "status", "200")
        .timer().count()).isPositive();
    assertThat(registry.get("cairn.http.lookups").tags("kind", "ac", "result", "hit")
        .counter().count()).isPositive();
  }

  /**
   * ccache's default layout ({@code subdirs}) and {@code flat} put ccache's own keys straight
   * under the URL's path, outside {@code /ac/} and {@code /cas/}: they are not the Bazel
   * protocol, so the server answers 404 and ccache counts remote errors but still compiles.
   */
  @Test
  void defaultAndFlatLayouts_areNotTheBazelProtocol_soCcacheCompilesWithoutRemoteHits() throws Exception {
    for (String layout : List.of("", "|layout=flat")) {
      String remote = "http://127.0.0.1:" + server.address().getPort() + "/ccache" + layout;
      compile(remote);
      Map<String, Long> second = compile(remote);
      assertThat(second.getOrDefault("remote_storage_hit", 0L)).as(layout).isZero();
      assertThat(second.get("remote_storage_error")).as(layout).isPositive();
      assertThat(objectFile()).isNotEmptyFile();
    }
    assertThat(registry.get("cairn.http.requests").tags("kind", "other", "method", "PUT", "status", "404")
        .timer().count()).isPositive();
  }

  private Path objectFile() {
    return source.resolveSibling("hello.o");
  }

  /** Compiles through ccache with a new, empty local cache and returns its statistics. */
  private Map<String, Long> compile(String remoteStorage) throws Exception {
    Path cacheDir = dir.resolve("ccache-" + (++compiles));
    Files.deleteIfExists(objectFile());
    run(List.of("ccache", "gcc", "-c", source.toString(), "-o", objectFile().toString()),
        cacheDir, remoteStorage);
    Map<String, Long> stats = new HashMap<>();
    for (String line : run(List.of("ccache", "--print-stats"), cacheDir, remoteStorage).split("\n")) {
      String[] kv = line.split("\t");
      if (kv.length == 2 && kv[1].matches("\\d+")) {
        stats.put(kv[0], Long.parseLong(kv[1]));
      }
    }
    return stats;
  }

  private String run(List<String> command, Path cacheDir, String remoteStorage) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.keySet().removeIf(k -> k.startsWith("CCACHE_"));
    env.put("CCACHE_DIR", cacheDir.toString());
    env.put("CCACHE_CONFIGPATH", emptyConfig.toString()); // ignore /etc/ccache.conf
    env.put("CCACHE_REMOTE_STORAGE", remoteStorage);
    env.put("CCACHE_TEMPDIR", dir.resolve("ccache-tmp").toString());
    env.put("HOME", dir.toString());
    Process p = pb.start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail(command + " did not finish in 60 s:\n" + output);
    }
    assertThat(p.exitValue()).as("%s failed:%n%s", command, output).isZero();
    return output;
  }

  private static void requireTool(String tool, String versionFlag) throws InterruptedException {
    try {
      Process p = new ProcessBuilder(tool, versionFlag).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      if (p.waitFor() == 0) {
        return;
      }
    } catch (IOException e) {
      // not installed: fail below
    }
    fail(tool + " is not installed, and this test needs the real client: install the Debian "
        + "package '" + tool + "' (apt-get install -y " + tool + "); .ci/run does");
  }
}
