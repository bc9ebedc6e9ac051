package dev.cairn.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A training run for the JVM's ahead-of-time cache (JEP 514): the launcher runs this class once
 * per build with {@code -XX:AOTCacheOutput}, and every later {@code cairn} starts from the classes
 * it loaded and linked. It runs each everyday command once against a throw-away store, output
 * discarded, so the cache covers picocli's model, the store and the tree code, not just
 * {@code --version}.
 */
public final class StartupTraining {

  private StartupTraining() {}

  public static void main(String[] args) throws IOException {
    Path scratch = Files.createTempDirectory("cairn-training-");
    try {
      train(scratch);
    } finally {
      deleteRecursively(scratch);
    }
  }

  private static void train(Path scratch) throws IOException {
    Path tree = Files.createDirectories(scratch.resolve("tree/sub"));
    Files.writeString(tree.resolve("file.txt"), "training\n", StandardCharsets.UTF_8);
    Files.createSymbolicLink(tree.resolve("link"), Path.of("file.txt"));
    Path file = tree.resolve("file.txt");
    String store = scratch.resolve("store").toString();

    run("--version");
    run("--help");
    run("put", "--help");
    run("no-such-command");
    run("cat", "not-a-digest");
    String blob = run("--store", store, "put", file.toString());
    run("--store", store, "cat", blob);
    String root = run("--store", store, "import", tree.getParent().toString());
    run("--store", store, "import", "--json", tree.getParent().toString());
    run("--store", store, "ls", root);
    run("--store", store, "ls", root + "/sub/file.txt");
    run("--store", store, "tree", root);
    run("--store", store, "export", root, scratch.resolve("out").toString());
    run("--store", store, "--max-size", "1GiB", "stat");
    run("--store", store, "gc");
  }

  /** Runs one command line; returns the first line of its output. */
  private static String run(String... args) {
    var stdout = new java.io.ByteArrayOutputStream();
    PrintStream stderr = new PrintStream(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
    Main.run(new Invocation(stdout, stderr, Map.of(), false), args);
    List<String> lines = stdout.toString(StandardCharsets.UTF_8).lines().toList();
    return lines.isEmpty() ? "" : lines.getFirst();
  }

  private static void deleteRecursively(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
