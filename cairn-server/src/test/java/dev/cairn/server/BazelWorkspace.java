package dev.cairn.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A throw-away Bazel 4 workspace of genrules with a private output root and HOME, driven as a
 * user would drive it. Bazel comes from Debian's {@code bazel-bootstrap} package; a missing
 * binary fails the test, naming the package.
 */
final class BazelWorkspace implements AutoCloseable {
  static final String BAZEL = "/usr/bin/bazel";

  final Path root;
  final Path workspace;
  private final Path home;
  private final Path outputRoot;

  BazelWorkspace(Path dir, String buildFile) throws IOException {
    assertThat(Path.of(BAZEL)).as("Bazel is needed: apt-get install -y bazel-bootstrap").exists();
    this.root = dir;
    this.workspace = Files.createDirectories(dir.resolve("ws"));
    this.home = Files.createDirectories(dir.resolve("home"));
    this.outputRoot = Files.createDirectories(dir.resolve("bazel-root"));
    Files.writeString(workspace.resolve("WORKSPACE"), "");
    Files.writeString(workspace.resolve("BUILD"), buildFile);
  }

  /** A few genrules, one depending on another: small outputs, a 3 MB one, a directory of two. */
  static String genrules(String salt) {
    return """
        genrule(name = "hello", outs = ["hello.txt"], cmd = "echo hello %1$s > $@")
        genrule(name = "big", srcs = [":hello"], outs = ["big.bin", "copy.txt"],
                cmd = "(head -c 3000000 /dev/zero | tr '\\\\0' x; echo %1$s) > $(location big.bin); cat $(location :hello) > $(location copy.txt)")
        genrule(name = "tree", srcs = [":hello"], outs = ["a/one.txt", "a/b/two.txt"],
                cmd = "cp $(location :hello) $(location a/one.txt); echo %1$s two > $(location a/b/two.txt)")
        """.formatted(salt);
  }

  record Result(int exitCode, String output) {
    /** The number Bazel reports as "N remote cache hit", or 0. */
    int remoteCacheHits() {
      var m = java.util.regex.Pattern.compile("(\\d+) remote cache hit").matcher(output);
      return m.find() ? Integer.parseInt(m.group(1)) : 0;
    }
  }

  Result run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>(List.of(BAZEL, "--output_user_root=" + outputRoot));
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(workspace.toFile())
        .redirectErrorStream(true);
    pb.environment().put("HOME", home.toString());
    pb.environment().remove("JAVA_HOME"); // Bazel runs on the system JDK
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(10, TimeUnit.MINUTES)) {
      p.destroyForcibly();
      throw new AssertionError("bazel " + String.join(" ", args) + " did not finish in 10 minutes");
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }

  void writeBuild(String buildFile) throws IOException {
    Files.writeString(workspace.resolve("BUILD"), buildFile);
  }

  Result build(String... flags) throws IOException, InterruptedException {
    List<String> args = new ArrayList<>(List.of("build", "--spawn_strategy=processwrapper-sandbox",
        "--noshow_progress", "--color=no", "--curses=no"));
    args.addAll(List.of(flags));
    args.add("//:all");
    Result r = run(args.toArray(String[]::new));
    assertThat(r.exitCode()).as("bazel build failed:%n%s", r.output()).isZero();
    return r;
  }

  @Override
  public void close() throws Exception {
    run("shutdown");
  }
}
