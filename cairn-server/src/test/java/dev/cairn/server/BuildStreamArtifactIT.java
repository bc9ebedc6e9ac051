package dev.cairn.server;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real BuildStream 1.6.8 with Cairn as its artifact server: {@code bst build} pushes an artifact
 * (through the Remote Asset Push service plus CAS and ByteStream), the local artifact cache is
 * wiped, and {@code bst pull} + {@code bst checkout} give back the same files, modes and symlinks,
 * byte for byte, as a checkout of the artifact that was built. Needs the Debian package {@code buildstream}; fails (never skips) without it.
 */
class BuildStreamArtifactIT {
  private static final Path BST = Path.of("/usr/bin/bst");

  @TempDir Path dir;
  private CairnServer server;

  @BeforeEach
  void startServer() throws Exception {
    if (!Files.isExecutable(BST)) {
      fail(BST + " not found: install the Debian package `buildstream` (apt-get install -y "
          + "buildstream; .ci/run does it)");
    }
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    server = CairnServer.start(ServerConfig.defaults(
        new StoreConfig.Disk(DiskStoreConfig.at(dir.resolve("store")))).withListen(any, any));
  }

  @AfterEach
  void stopServer() throws Exception {
    server.close();
  }

  @Test
  void buildPushes_thenAWipedCachePullsAndChecksOutTheSameTree() throws Exception {
    Path project = Files.createDirectories(dir.resolve("project"));
    Path files = Files.createDirectories(project.resolve("files"));
    Files.createDirectories(project.resolve("elements"));
    Files.writeString(project.resolve("project.conf"), """
        name: cairnit
        element-path: elements
        artifacts:
          url: http://127.0.0.1:%d
          push: true
        """.formatted(server.grpcAddress().getPort()));
    Files.writeString(project.resolve("elements/files.bst"), """
        kind: import
        sources:
        - kind: local
          path: files
        """);
    Files.createDirectories(files.resolve("nested/deep"));
    Files.writeString(files.resolve("a.txt"), "hello\n");
    Files.writeString(files.resolve("nested/deep/file.txt"), "deep\n");
    Path tool = Files.writeString(Files.createDirectories(files.resolve("bin")).resolve("tool"),
        "#!/bin/sh\necho tool\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    byte[] big = new byte[3 * 1024 * 1024 + 17];
    new Random(11).nextBytes(big);
    Files.write(files.resolve("big.bin"), big);
    Files.createSymbolicLink(files.resolve("link"), Path.of("a.txt"));
    Files.createSymbolicLink(files.resolve("nested/deep/up"), Path.of("../../a.txt"));
    Files.createSymbolicLink(files.resolve("abs"), Path.of("/etc/hostname"));

    Outcome build = bst(project, "build", "files.bst");
    assertThat(build.exitCode).as(build.output).isZero();
    assertThat(build.output).contains("Pushed artifact");
    // The pushed artifact's content is in Cairn's store, not only in BuildStream's cache.
    var cas = server.stores().allCas().get(dev.cairn.core.digest.DigestFunction.SHA256);
    assertThat(cas.contains(dev.cairn.core.digest.DigestFunction.SHA256.digestOf(big))).isTrue();

    Path built = dir.resolve("checkout-built");
    Outcome local = bst(project, "checkout", "files.bst", built.toString());
    assertThat(local.exitCode).as(local.output).isZero();

    Path artifacts = dir.resolve("cache/buildstream/artifacts");
    assertThat(artifacts).isDirectory();
    deleteTree(artifacts);

    Outcome pull = bst(project, "pull", "files.bst");
    assertThat(pull.exitCode).as(pull.output).isZero();
    assertThat(pull.output).containsPattern("Pull Queue:\\s+processed 1");

    Path out = dir.resolve("checkout");
    Outcome checkout = bst(project, "checkout", "files.bst", out.toString());
    assertThat(checkout.exitCode).as(checkout.output).isZero();

    assertThat(describe(out)).isEqualTo(describe(built));
    // What was built is the source tree, except that BuildStream's staging rewrites absolute
    // symlink targets relative to the element's root (utils._relative_symlink_target).
    Map<String, String> expected = describe(files);
    expected.put("abs", "link -> etc/hostname");
    assertThat(describe(out)).isEqualTo(expected);
    assertThat(Files.readAllBytes(out.resolve("big.bin"))).isEqualTo(big);
  }

  /** Every entry under {@code root}: kind, mode bits, and content or link target. */
  private static Map<String, String> describe(Path root) throws IOException {
    Map<String, String> entries = new TreeMap<>();
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          entries.put(rel, "link -> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          entries.put(rel, "dir");
        } else {
          Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
          String sha = java.util.HexFormat.of().formatHex(
              java.security.MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
          entries.put(rel, "file " + (perms.contains(PosixFilePermission.OWNER_EXECUTE) ? "x " : "- ")
              + Files.size(p) + " " + sha);
        }
      }
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return entries;
  }

  private record Outcome(int exitCode, String output) {}

  private Outcome bst(Path project, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(BST.toString(), "--no-interactive", "--no-colors"));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(project.toFile()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("HOME", Files.createDirectories(dir.resolve("home")).toString());
    env.put("XDG_CACHE_HOME", Files.createDirectories(dir.resolve("cache")).toString());
    env.put("XDG_CONFIG_HOME", Files.createDirectories(dir.resolve("config")).toString());
    env.put("XDG_DATA_HOME", Files.createDirectories(dir.resolve("data")).toString());
    env.put("LC_ALL", "C.UTF-8");
    Process p = pb.start();
    String output;
    try (InputStream in = p.getInputStream()) {
      output = new String(in.readAllBytes(), UTF_8);
    }
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      fail("bst " + String.join(" ", args) + " did not finish in 5 minutes:\n" + output);
    }
    return new Outcome(p.exitValue(), "bst " + String.join(" ", args) + ":\n" + output);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        if (!Files.isWritable(p.getParent())) {
          p.getParent().toFile().setWritable(true);
        }
        Files.delete(p);
      }
    }
  }
}
