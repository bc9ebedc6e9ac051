package dev.cairn.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.InMemoryBlobStore;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Set;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/**
 * {@link OsDirectory}, and {@link OverlayDirectory} over a stored tree, against {@link
 * CasDirectory} as the model: random sequences of edits over a small alphabet of names (so they
 * collide often) must succeed or fail alike, with the same exception class, and leave trees with
 * equal snapshots.
 */
class DirectoryModelProperties {

  /** One edit, applied to any Directory. */
  sealed interface Op {
    void apply(Directory d) throws IOException;
  }

  record Mkdir(TreePath path, boolean parents) implements Op {
    public void apply(Directory d) throws IOException {
      d.mkdir(path, parents);
    }
  }

  record Write(TreePath path, String content) implements Op {
    public void apply(Directory d) throws IOException {
      d.write(path, new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)));
    }
  }

  record SetExecutable(TreePath path, boolean executable) implements Op {
    public void apply(Directory d) throws IOException {
      d.setExecutable(path, executable);
    }
  }

  record Symlink(String target, TreePath path) implements Op {
    public void apply(Directory d) throws IOException {
      d.symlink(target, path);
    }
  }

  record Copy(TreePath source, TreePath target) implements Op {
    public void apply(Directory d) throws IOException {
      d.copy(source, target);
    }
  }

  record Move(TreePath source, TreePath target) implements Op {
    public void apply(Directory d) throws IOException {
      d.move(source, target);
    }
  }

  record Remove(TreePath path, boolean recursive) implements Op {
    public void apply(Directory d) throws IOException {
      d.remove(path, recursive);
    }
  }

  record Rename(TreePath source, TreePath target, Set<RenameOption> options) implements Op {
    public void apply(Directory d) throws IOException {
      d.rename(source, target, options);
    }
  }

  /**
   * Replaces a file's bytes: on an overlay in place through {@link OverlayDirectory#scratchFile}
   * (as a FUSE write does), elsewhere with {@code write} on an existing file.
   */
  record EditInPlace(TreePath path, String content) implements Op {
    public void apply(Directory d) throws IOException {
      byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
      if (d instanceof OverlayDirectory overlay) {
        Path file = overlay.scratchFile(path);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
          ch.truncate(0);
          ch.write(ByteBuffer.wrap(bytes));
        }
      } else {
        d.stat(path);
        d.write(path, new ByteArrayInputStream(bytes));
      }
    }
  }

  record Snapshot() implements Op {
    public void apply(Directory d) throws IOException {
      d.snapshot();
    }
  }

  @Property(tries = 100)
  void overlayOverAStoredTree_behavesLikeCasDirectory(@ForAll("edits") @Size(max = 30) List<Op> ops)
      throws IOException {
    InMemoryBlobStore store = new InMemoryBlobStore();
    CasDirectory base = CasDirectory.empty(store);
    base.mkdir(TreePath.parse("a/b"), true);
    base.write(TreePath.parse("a/c"), new ByteArrayInputStream("lower".getBytes(StandardCharsets.UTF_8)));
    base.write(TreePath.parse("a/b/c"), new ByteArrayInputStream("deep".getBytes(StandardCharsets.UTF_8)));
    base.write(TreePath.parse("c"), new ByteArrayInputStream("top".getBytes(StandardCharsets.UTF_8)));
    base.setExecutable(TreePath.parse("c"), true);
    base.symlink("a", TreePath.parse("b"));
    var root = base.snapshot();
    Path scratch = Files.createTempDirectory("cairn-overlay-model-");
    try (Directory model = CasDirectory.open(store, root);
        Directory overlay = OverlayDirectory.over(CasDirectory.open(store, root), store, scratch)) {
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        Class<?> expected = outcome(op, model);
        Class<?> actual = outcome(op, overlay);
        assertThat(actual).as("step %d: %s", i, op).isEqualTo(expected);
      }
      assertThat(overlay.snapshot()).isEqualTo(model.snapshot());
    } finally {
      deleteTree(scratch);
    }
  }

  @Property(tries = 100)
  void osDirectory_behavesLikeCasDirectory(@ForAll("edits") @Size(max = 30) List<Op> ops)
      throws IOException {
    Path tmp = Files.createTempDirectory("cairn-model-");
    try (Directory model = CasDirectory.empty(new InMemoryBlobStore());
        Directory os = OsDirectory.open(tmp, new InMemoryBlobStore())) {
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        Class<?> expected = outcome(op, model);
        Class<?> actual = outcome(op, os);
        assertThat(actual).as("step %d: %s", i, op).isEqualTo(expected);
      }
      assertThat(os.list(TreePath.ROOT)).as("root listing").hasSameSizeAs(model.list(TreePath.ROOT));
      assertThat(os.snapshot()).isEqualTo(model.snapshot());
    } finally {
      deleteTree(tmp);
    }
  }

  /** The exception class {@code op} throws, or Void if it succeeds. */
  private static Class<?> outcome(Op op, Directory d) {
    try {
      op.apply(d);
      return Void.class;
    } catch (IOException | RuntimeException e) {
      return e.getClass();
    }
  }

  @Provide
  Arbitrary<List<Op>> edits() {
    Arbitrary<TreePath> path = Arbitraries.of("a", "b", "c").list().ofMinSize(1).ofMaxSize(3)
        .map(names -> TreePath.parse(String.join("/", names)));
    Arbitrary<TreePath> target = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(8, path), net.jqwik.api.Tuple.of(1, Arbitraries.just(TreePath.ROOT)));
    Arbitrary<Boolean> flag = Arbitraries.of(true, false);
    Arbitrary<Op> op = Arbitraries.frequencyOf(
        net.jqwik.api.Tuple.of(4, Combinators.combine(path, flag).as(Mkdir::new)),
        net.jqwik.api.Tuple.of(4, Combinators.combine(path, Arbitraries.of("", "x", "yy")).as(Write::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(path, flag).as(SetExecutable::new)),
        net.jqwik.api.Tuple.of(1, Combinators.combine(Arbitraries.of("a", "../up", "b/c"), path)
            .as(Symlink::new)),
        net.jqwik.api.Tuple.of(2, Combinators.combine(target, target).as(Copy::new)),
        net.jqwik.api.Tuple.of(2, Combinators.combine(target, target).as(Move::new)),
        net.jqwik.api.Tuple.of(2, Combinators.combine(target, flag).as(Remove::new)),
        net.jqwik.api.Tuple.of(3, Combinators.combine(target, target, Arbitraries.of(
            Set.<RenameOption>of(), Set.of(RenameOption.NO_REPLACE), Set.of(RenameOption.EXCHANGE)))
            .as(Rename::new)),
        net.jqwik.api.Tuple.of(2, Combinators.combine(path, Arbitraries.of("", "z", "longer"))
            .as(EditInPlace::new)),
        net.jqwik.api.Tuple.of(1, Arbitraries.just(new Snapshot())));
    return op.list().ofMaxSize(30);
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> all = Files.walk(root)) {
      for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
