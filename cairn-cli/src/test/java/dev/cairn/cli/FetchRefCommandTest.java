package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.server.CairnServer;
import dev.cairn.server.ServerConfig;
import dev.cairn.server.StoreConfig;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code cairn fetch} and {@code cairn ref}, locally and against a real server, from a real HTTP origin. */
class FetchRefCommandTest {
  @TempDir Path tmp;
  private HttpServer origin;
  private final AtomicInteger requests = new AtomicInteger();
  private CliRunner cairn;
  private static final byte[] BODY = "fetched through cairn\n".getBytes(StandardCharsets.UTF_8);

  @BeforeEach
  void start() throws Exception {
    origin = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    origin.createContext("/file.txt", ex -> {
      requests.incrementAndGet();
      ex.sendResponseHeaders(200, BODY.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(BODY);
      }
    });
    origin.start();
    cairn = new CliRunner(tmp.resolve("store"));
  }

  @AfterEach
  void stop() {
    origin.stop(0);
  }

  private String url(String path) {
    return "http://127.0.0.1:" + origin.getAddress().getPort() + path;
  }

  private static String sri(byte[] b) throws Exception {
    return "sha256-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void fetch_local_printsTheDigest_storesTheBlob_andUsesTheIndexNextTime() throws Exception {
    String digest = cairn.ok("fetch", "--allow-private", "--sri", sri(BODY), url("/file.txt")).line();
    assertThat(digest).isEqualTo(DigestFunction.SHA256.digestOf(BODY).toString());
    assertThat(cairn.ok("cat", digest).stdoutBytes()).isEqualTo(BODY);
    assertThat(cairn.ok("fetch", "--allow-private", "--sri", sri(BODY), url("/file.txt")).line()).isEqualTo(digest);
    assertThat(requests.get()).isEqualTo(1);
  }

  @Test
  void fetch_local_refusesLoopbackByDefault_andReportsWrongSri() throws Exception {
    CliRunner.Result refused = cairn.run("fetch", url("/file.txt"));
    assertThat(refused.exitCode()).isEqualTo(1);
    assertThat(refused.stderr()).contains("loopback");
    CliRunner.Result wrong = cairn.run("fetch", "--allow-private", "--sri", sri("x".getBytes()), url("/file.txt"));
    assertThat(wrong.exitCode()).isEqualTo(1);
    assertThat(wrong.stderr()).contains("checksum.sri mismatch");
    CliRunner.Result bad = cairn.run("fetch", "--sri", "md5-abc", url("/file.txt"));
    assertThat(bad.exitCode()).isEqualTo(2);
    assertThat(bad.stderr()).contains("md5");
  }

  @Test
  void fetch_remote_downloadsServerSide() throws Exception {
    try (CairnServer server = startServer(tmp.resolve("server"))) {
      String remote = "grpc://127.0.0.1:" + server.grpcAddress().getPort();
      String digest = cairn.ok("--remote", remote, "fetch", url("/file.txt")).line();
      assertThat(digest).isEqualTo(DigestFunction.SHA256.digestOf(BODY).toString());
      assertThat(server.stores().cas(DigestFunction.SHA256).get(dev.cairn.core.digest.Digest.parse(digest))).isEqualTo(BODY);
      CliRunner.Result missing = cairn.run("--remote", remote, "fetch", url("/nope"));
      assertThat(missing.exitCode()).isEqualTo(1);
      assertThat(missing.stderr()).contains("HTTP 404");
    }
  }

  @Test
  void ref_setGet_local_andRemote() throws Exception {
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(src.resolve("a.txt"), "a");
    String root = cairn.ok("import", src.toString()).line();
    cairn.ok("ref", "set", "team/inputs", root);
    assertThat(cairn.ok("ref", "get", "team/inputs").line()).isEqualTo(root);
    CliRunner.Result none = cairn.run("ref", "get", "team/other");
    assertThat(none.exitCode()).isEqualTo(1);
    assertThat(none.stderr()).contains("no ref 'team/other'");
    assertThat(cairn.run("ref", "set", "../up", root).exitCode()).isEqualTo(2);
    // A tree the store lacks cannot be named.
    CliRunner.Result absent = cairn.run("ref", "set", "x", "0".repeat(64) + "/10");
    assertThat(absent.exitCode()).isEqualTo(1);
    assertThat(absent.stderr()).contains("not in the CAS");

    try (CairnServer server = startServer(tmp.resolve("server"))) {
      String remote = "grpc://127.0.0.1:" + server.grpcAddress().getPort() + "/inst";
      cairn.ok("--remote", remote, "import", src.toString());
      cairn.ok("--remote", remote, "ref", "set", "team/inputs", root);
      assertThat(cairn.ok("--remote", remote, "ref", "get", "team/inputs").line()).isEqualTo(root);
      assertThat(cairn.run("--remote", remote, "ref", "get", "team/nothing").exitCode()).isEqualTo(1);
      // Instance names partition refs.
      String other = "grpc://127.0.0.1:" + server.grpcAddress().getPort() + "/other";
      assertThat(cairn.run("--remote", other, "ref", "get", "team/inputs").exitCode()).isEqualTo(1);
    }
  }

  private static CairnServer startServer(Path dir) throws Exception {
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    return CairnServer.start(ServerConfig.defaults(new StoreConfig.Disk(DiskStoreConfig.at(dir)))
        .withListen(any, any)
        .withAsset(dev.cairn.asset.AssetConfig.defaults().withAllowPrivate(true)));
  }
}
