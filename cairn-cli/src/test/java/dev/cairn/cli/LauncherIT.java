package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs the real {@code ./cairn} launcher as a user would: a separate process, from another
 * directory, through a path with spaces, in a non-UTF-8 locale. The jar is the one Maven just
 * packaged, so the launcher should neither rebuild nor print anything but the command's output.
 */
class LauncherIT {

  private static Path launcher;

  @TempDir Path tmp;
  private Path home;

  record Run(int exitCode, String stdout, String stderr) {}

  @BeforeAll
  static void findLauncher() {
    String configured = System.getProperty("cairn.repo.root");
    Path dir = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
    while (dir != null && !Files.isExecutable(dir.resolve("cairn"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("repository root with an executable ./cairn above " + Path.of("").toAbsolutePath()).isNotNull();
    launcher = dir.toAbsolutePath().normalize().resolve("cairn");
  }

  @BeforeEach
  void setUp() throws IOException {
    home = Files.createDirectories(tmp.resolve("home"));
  }

  private Run cairn(Path script, Path cwd, Map<String, String> env, String... args)
      throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(script.toString());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(cwd.toFile());
    pb.environment().put("HOME", home.toString());
    pb.environment().put("XDG_CACHE_HOME", home.resolve("cache").toString());
    pb.environment().putAll(env);
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<byte[]> out = CompletableFuture.supplyAsync(() -> readAll(p.getInputStream()));
    CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> readAll(p.getErrorStream()));
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("cairn " + String.join(" ", args) + " did not finish in 5 minutes");
    }
    return new Run(p.exitValue(), new String(out.join(), StandardCharsets.UTF_8),
        new String(err.join(), StandardCharsets.UTF_8));
  }

  private Run cairn(String... args) throws IOException, InterruptedException {
    return cairn(launcher, tmp, Map.of(), args);
  }

  private static byte[] readAll(java.io.InputStream in) {
    try (in) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void version_printsOnlyTheVersionOnStdout() throws Exception {
    Run r = cairn("--version");

    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.stdout()).isEqualTo("cairn " + VersionProvider.version() + "\n");
    assertThat(r.stderr()).doesNotContain("Exception", "[warning]", "[error]");
  }

  @Test
  void putThenCat_fromAnotherDirectory_roundTripsTheBytes() throws Exception {
    byte[] content = new byte[200_000];
    new java.util.Random(7).nextBytes(content);
    Files.write(tmp.resolve("data.bin"), content);

    Run put = cairn("put", "data.bin");
    assertThat(put.exitCode()).as(put.stderr()).isZero();
    String digest = put.stdout().strip();
    assertThat(digest).matches("[0-9a-f]{64}/200000");

    ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "cat", digest)
        .directory(tmp.toFile())
        .redirectOutput(tmp.resolve("back.bin").toFile())
        .redirectError(ProcessBuilder.Redirect.DISCARD);
    pb.environment().put("HOME", home.toString());
    pb.environment().put("XDG_CACHE_HOME", home.resolve("cache").toString());
    Process cat = pb.start();
    assertThat(cat.waitFor(5, TimeUnit.MINUTES)).isTrue();
    assertThat(cat.exitValue()).isZero();
    assertThat(Files.readAllBytes(tmp.resolve("back.bin"))).isEqualTo(content);
    assertThat(home.resolve("cache/cairn")).isDirectory();
  }

  @Test
  void exitCodes_reachTheCaller() throws Exception {
    Run missing = cairn("cat", "ab".repeat(32) + "/3");
    Run usage = cairn("cat", "not-a-digest");

    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.stderr()).isEqualTo("cairn: blob " + "ab".repeat(32) + "/3 not found\n");
    assertThat(usage.exitCode()).isEqualTo(2);
    assertThat(usage.stdout()).isEmpty();
  }

  @Test
  void worksThroughAPathWithSpaces_andInAPosixLocale() throws Exception {
    Path spaced = Files.createDirectories(tmp.resolve("dir with spaces"));
    Path repo = Files.createSymbolicLink(spaced.resolve("cairn repo"), launcher.getParent());
    Path work = Files.createDirectories(spaced.resolve("wörk dir"));
    Files.writeString(work.resolve("ünïcødé name.txt"), "é\n");
    Map<String, String> posix = Map.of("LC_ALL", "POSIX", "LANG", "C");

    Run version = cairn(repo.resolve("cairn"), work, posix, "--version");
    Run put = cairn(repo.resolve("cairn"), work, posix, "put", "ünïcødé name.txt");

    assertThat(version.stdout()).isEqualTo("cairn " + VersionProvider.version() + "\n");
    assertThat(put.exitCode()).as(put.stderr()).isZero();
    assertThat(put.stdout().strip()).endsWith("/3");
  }
}
