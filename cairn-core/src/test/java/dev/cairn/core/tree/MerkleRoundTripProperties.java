package dev.cairn.core.tree;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/** Import, export and import again: the same root digest and the same files, for any tree. */
class MerkleRoundTripProperties {

  /** A generated tree node: a file (content, exec), a symlink, or a directory of named nodes. */
  sealed interface Node {}

  record FileN(String content, boolean exec) implements Node {}

  record LinkN(String target) implements Node {}

  record DirN(Map<String, Node> children) implements Node {}

  @Provide
  Arbitrary<DirN> trees() {
    return dir(3);
  }

  private Arbitrary<String> names() {
    return Arbitraries.oneOf(
        Arbitraries.strings().withCharRange('a', 'e').ofMinLength(1).ofMaxLength(3),
        Arbitraries.of("\uD83D\uDE00", "\uFFFD", "é", "x y", ".hidden", "Z"));
  }

  private Arbitrary<DirN> dir(int depth) {
    Arbitrary<Node> file = Arbitraries.strings().ofMaxLength(50)
        .flatMap(c -> Arbitraries.of(true, false).map(x -> (Node) new FileN(c, x)));
    Arbitrary<Node> link = Arbitraries.of("target", "../up", "/abs/path", "a b/c")
        .map(t -> (Node) new LinkN(t));
    Arbitrary<Node> node = depth == 0
        ? Arbitraries.oneOf(file, link)
        : Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(4, file), net.jqwik.api.Tuple.of(1, link),
            net.jqwik.api.Tuple.of(2, dir(depth - 1).map(d -> (Node) d)));
    return Arbitraries.maps(names(), node).ofMaxSize(5).map(m -> new DirN(new TreeMap<>(m)));
  }

  private static void write(Path at, DirN dir) throws IOException {
    Files.createDirectories(at);
    for (var e : dir.children().entrySet()) {
      Path p = at.resolve(e.getKey());
      switch (e.getValue()) {
        case FileN f -> {
          Files.writeString(p, f.content(), StandardCharsets.UTF_8);
          Files.setPosixFilePermissions(p, PosixFilePermissions.fromString(f.exec() ? "rwxr-xr-x" : "rw-r--r--"));
        }
        case LinkN l -> Files.createSymbolicLink(p, Path.of(l.target()));
        case DirN d -> write(p, d);
      }
    }
  }

  @Property(tries = 60)
  void importExportImport_givesSameRoot(@ForAll("trees") DirN tree) throws IOException {
    Path work = Files.createTempDirectory("roundtrip");
    try {
      for (DigestFunction function : DigestFunction.values()) {
        InMemoryBlobStore store = new InMemoryBlobStore(function);
        Path src = work.resolve(function.cliName() + "-src");
        write(src, tree);
        Digest first = new MerkleTreeBuilder(store).build(src).root();
        Path out = work.resolve(function.cliName() + "-out");
        new TreeExporter(store).export(first, out);
        Digest second = new MerkleTreeBuilder(store).build(out).root();
        assertThat(second).isEqualTo(first);
        assertThat(describe(out)).isEqualTo(describe(src));
      }
    } finally {
      delete(work);
    }
  }

  /** Every path with its kind, exec bit, content or target: what a tree means. */
  private static List<String> describe(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      return s.map(p -> {
        try {
          String rel = root.relativize(p).toString();
          if (Files.isSymbolicLink(p)) {
            return rel + " -> " + Files.readSymbolicLink(p);
          }
          if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
            return rel + "/";
          }
          return rel + " " + Files.isExecutable(p) + " " + Files.readString(p);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }).sorted().toList();
    }
  }

  private static void delete(Path root) throws IOException {
    try (Stream<Path> s = Files.walk(root)) {
      s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }
}
