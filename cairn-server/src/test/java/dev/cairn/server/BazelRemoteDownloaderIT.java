package dev.cairn.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.cairn.asset.AssetConfig;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Bazel 4.2.3 fetching external repositories through Cairn's Remote Asset service
 * ({@code --experimental_remote_downloader}): an {@code http_file} and an {@code http_archive}
 * from an origin on loopback. The first build downloads through Cairn (the origin sees only
 * Cairn); then the origin is stopped, Bazel's output base expunged and its repository cache off,
 * and the build still succeeds, from Cairn alone.
 */
class BazelRemoteDownloaderIT {
  @TempDir Path dir;

  private final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
  private final List<String> userAgents = new CopyOnWriteArrayList<>();

  private HttpServer origin(Map<String, byte[]> files) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", ex -> {
      String path = ex.getRequestURI().getPath();
      requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      userAgents.add(String.valueOf(ex.getRequestHeaders().getFirst("User-Agent")));
      byte[] body = files.get(path);
      if (body == null) {
        ex.sendResponseHeaders(404, -1);
      } else {
        ex.sendResponseHeaders(200, body.length);
        try (OutputStream out = ex.getResponseBody()) {
          out.write(body);
        }
      }
      ex.close();
    });
    server.start();
    return server;
  }

  private static byte[] tarGz(Map<String, String> files) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
      for (var f : files.entrySet()) {
        byte[] content = f.getValue().getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(f.getKey());
        e.setSize(content.length);
        e.setMode(0644);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static String sha256(byte[] b) throws Exception {
    return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
  }

  @Test
  void httpFileAndHttpArchive_fetchedThroughCairn_buildAgainWithTheOriginGone() throws Exception {
    byte[] data = "data file from the origin\n".getBytes(StandardCharsets.UTF_8);
    byte[] archive = tarGz(Map.of("lib/hello.txt", "hello from the archive\n", "lib/other.txt", "x\n"));
    HttpServer origin = origin(Map.of("/data.txt", data, "/lib-1.0.tar.gz", archive));
    String base = "http://127.0.0.1:" + origin.getAddress().getPort();

    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    try (CairnServer server = CairnServer.start(ServerConfig.defaults(
            new StoreConfig.Disk(DiskStoreConfig.at(dir.resolve("store")))).withListen(any, any)
            .withAsset(AssetConfig.defaults().withAllowPrivate(true)));
        BazelWorkspace ws = new BazelWorkspace(Files.createDirectories(dir.resolve("bazel")), """
            genrule(name = "combined", srcs = ["@data//file", "@lib//:hello.txt"], outs = ["combined.txt"],
                    cmd = "cat $(SRCS) > $@")
            """)) {
      Files.writeString(ws.workspace.resolve("WORKSPACE"), """
          load("@bazel_tools//tools/build_defs/repo:http.bzl", "http_archive", "http_file")
          http_file(
              name = "data",
              urls = ["%1$s/data.txt"],
              sha256 = "%2$s",
              downloaded_file_path = "data.txt",
          )
          http_archive(
              name = "lib",
              urls = ["%1$s/lib-1.0.tar.gz"],
              sha256 = "%3$s",
              strip_prefix = "lib",
              build_file_content = 'exports_files(["hello.txt"])',
          )
          """.formatted(base, sha256(data), sha256(archive)));
      String grpc = "grpc://127.0.0.1:" + server.grpcAddress().getPort();
      String[] flags = {"--experimental_remote_downloader=" + grpc, "--remote_cache=" + grpc, "--repository_cache="};

      ws.build(flags);
      String expected = "data file from the origin\nhello from the archive\n";
      assertThat(Files.readString(ws.workspace.resolve("bazel-bin/combined.txt"))).isEqualTo(expected);
      assertThat(requests.get("/data.txt")).hasValue(1);
      assertThat(requests.get("/lib-1.0.tar.gz")).hasValue(1);
      assertThat(userAgents).as("only Cairn talked to the origin").allMatch(ua -> ua.startsWith("cairn-asset"));
      assertThat(server.assets().index().size()).isEqualTo(2);

      origin.stop(0);
      BazelWorkspace.Result expunged = ws.run("clean", "--expunge");
      assertThat(expunged.exitCode()).as(expunged.output()).isZero();
      BazelWorkspace.Result again = ws.build(flags);
      assertThat(Files.readString(ws.workspace.resolve("bazel-bin/combined.txt"))).as(again.output()).isEqualTo(expected);
      assertThat(requests.get("/data.txt")).hasValue(1);
      assertThat(requests.get("/lib-1.0.tar.gz")).hasValue(1);
    }
  }
}
