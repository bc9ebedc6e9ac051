package dev.cairn.cli;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs {@code cairn} command lines in-process through picocli against a store in a temp
 * directory, capturing stdout (as bytes) and stderr, so tests assert on exactly what a user sees.
 */
final class CliRunner {

  /** What one run printed and returned. */
  record Result(int exitCode, byte[] stdoutBytes, String stderr) {
    String stdout() {
      return new String(stdoutBytes, StandardCharsets.UTF_8);
    }

    List<String> lines() {
      return stdout().lines().toList();
    }

    /** The only line of stdout. */
    String line() {
      List<String> lines = lines();
      if (lines.size() != 1) {
        throw new AssertionError("expected one line, got " + lines + "; stderr: " + stderr);
      }
      return lines.getFirst();
    }
  }

  private final Path store;
  private final Map<String, String> env = new HashMap<>();

  CliRunner(Path store) {
    this.store = store;
    env.put("HOME", store.resolveSibling("home").toString());
  }

  CliRunner env(String name, String value) {
    env.put(name, value);
    return this;
  }

  /** Runs with {@code --store <temp store>} first. */
  Result run(String... args) {
    List<String> all = new ArrayList<>(List.of("--store", store.toString()));
    all.addAll(List.of(args));
    return runRaw(all.toArray(String[]::new));
  }

  /** Runs exactly {@code args}, with no store option added. */
  Result runRaw(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(new Invocation(out, errStream, env, false), args);
    }
    return new Result(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  /** Runs and fails the test unless the command succeeded. */
  Result ok(String... args) {
    Result r = run(args);
    if (r.exitCode() != 0) {
      throw new AssertionError(
          "cairn " + String.join(" ", args) + " exited " + r.exitCode() + ": " + r.stderr());
    }
    return r;
  }
}
