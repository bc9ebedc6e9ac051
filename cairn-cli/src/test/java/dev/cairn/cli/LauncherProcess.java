package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs this checkout's {@code ./cairn} launcher as a separate process, as a user would. */
final class LauncherProcess {

  record Run(int exitCode, String stdout, String stderr) {}

  private LauncherProcess() {}

  /** The launcher at the repository root ({@code cairn.repo.root}, else above the cwd). */
  static Path path() {
    String configured = System.getProperty("cairn.repo.root");
    Path dir = configured != null ? Path.of(configured) : Path.of("").toAbsolutePath();
    while (dir != null && !Files.isExecutable(dir.resolve("cairn"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("repository root with ./cairn").isNotNull();
    return dir.toAbsolutePath().normalize().resolve("cairn");
  }

  /** A process builder for {@code ./cairn ARGS...}; the caller sets directory and environment. */
  static ProcessBuilder command(String... args) {
    List<String> command = new ArrayList<>(List.of(path().toString()));
    command.addAll(List.of(args));
    return new ProcessBuilder(command);
  }

  /** Runs it with no input to completion (5 minutes at most) and collects both outputs. */
  static Run run(ProcessBuilder pb) throws Exception {
    Process p = pb.start();
    p.getOutputStream().close();
    CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
    CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
    if (!p.waitFor(5, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError(String.join(" ", pb.command()) + " did not finish");
    }
    return new Run(p.exitValue(), out.get(1, TimeUnit.MINUTES), err.get(1, TimeUnit.MINUTES));
  }

  private static String read(InputStream in) {
    try (in) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
