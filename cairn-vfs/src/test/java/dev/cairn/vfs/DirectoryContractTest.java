package dev.cairn.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleTreeBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The behaviour every {@link Directory} backend must have, pinned to what {@code cp -a},
 * {@code mv} and {@code rm -r} do on Linux. Each backend's test says how to make an empty tree;
 * snapshots are compared with {@code cairn import} of the same tree built with real files.
 */
public abstract class DirectoryContractTest {
  @TempDir protected Path tmp;
  protected BlobStore store;
  protected Directory dir;

  /** A new, empty tree over {@code store}. */
  protected abstract Directory newDirectory(BlobStore store, Path tmp) throws IOException;

  @BeforeEach
  void create() throws IOException {
    store = new InMemoryBlobStore();
    dir = newDirectory(store, tmp);
  }

  @AfterEach
  void closeIt() throws Exception {
    dir.close();
  }

  protected static TreePath p(String path) {
    return TreePath.parse(path);
  }

  protected void write(String path, String content) throws IOException {
    dir.write(p(path), new ByteArrayInputStream(content.getBytes(StandardCharsets.UTF_8)));
  }

  protected String read(String path) throws IOException {
    try (InputStream in = dir.read(p(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  protected List<String> names(String path) throws IOException {
    return dir.list(p(path)).stream().map(e -> e.name().value()).toList();
  }

  /** The root digest {@code cairn import} gives for the same tree made of real files. */
  protected Digest importedDigest(Path local) throws IOException {
    return new MerkleTreeBuilder(new InMemoryBlobStore()).build(local).root();
  }

  @Test
  void emptyTree_hasTheEmptyDirectoryDigest() throws IOException {
    assertThat(dir.snapshot()).isEqualTo(store.digestFunction().emptyDigest());
    assertThat(dir.list(TreePath.ROOT)).isEmpty();
  }

  @Test
  void writeReadStatList() throws IOException {
    dir.mkdir(p("a/b"), true);
    write("a/b/f.txt", "hello");
    write("a/z", "");
    assertThat(read("a/b/f.txt")).isEqualTo("hello");
    assertThat(dir.stat(p("a/b/f.txt"))).isInstanceOfSatisfying(Node.File.class, f -> {
      assertThat(f.size()).isEqualTo(5);
      assertThat(f.executable()).isFalse();
    });
    assertThat(dir.stat(p("a"))).isInstanceOf(Node.Dir.class);
    assertThat(names("a")).containsExactly("b", "z");
    assertThatThrownBy(() -> dir.stat(p("a/nope"))).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> dir.list(p("a/z"))).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> write("missing/f", "x")).isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void listing_isInUtf8Order() throws IOException {
    for (String n : List.of("z.txt", "\uD83D\uDE00.txt", "\uFFFD.txt", "A", "a")) {
      write(n, n);
    }
    assertThat(names("")).containsExactly("A", "a", "z.txt", "\uFFFD.txt", "\uD83D\uDE00.txt");
  }

  @Test
  void replacingWrite_keepsExecutableBit() throws IOException {
    write("tool", "v1");
    dir.setExecutable(p("tool"), true);
    write("tool", "v2");
    assertThat(((Node.File) dir.stat(p("tool"))).executable()).isTrue();
    assertThat(read("tool")).isEqualTo("v2");
  }

  @Test
  void mkdir_errorsAndParents() throws IOException {
    dir.mkdir(p("d"), false);
    assertThatThrownBy(() -> dir.mkdir(p("d"), false)).isInstanceOf(FileAlreadyExistsException.class);
    dir.mkdir(p("d"), true);
    assertThatThrownBy(() -> dir.mkdir(p("x/y"), false)).isInstanceOf(NoSuchFileException.class);
    write("f", "x");
    assertThatThrownBy(() -> dir.mkdir(p("f/g"), true)).isInstanceOf(NotDirectoryException.class);
  }

  @Test
  void symlinks_areKeptVerbatim_andNeverFollowed() throws IOException {
    dir.mkdir(p("real"), false);
    write("real/f", "inside");
    dir.symlink("real", p("link"));
    dir.symlink("../../outside", p("escape"));
    assertThat(dir.stat(p("link"))).isEqualTo(new Node.Link("real"));
    assertThatThrownBy(() -> dir.stat(p("link/f"))).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> write("link/g", "x")).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> dir.symlink("x", p("link"))).isInstanceOf(FileAlreadyExistsException.class);
    for (String unstorable : List.of("a//b", "dir/", "")) {
      assertThatThrownBy(() -> dir.symlink(unstorable, p("bad"))).as(unstorable)
          .isInstanceOf(IllegalArgumentException.class);
    }
    dir.copy(p("escape"), p("escape2"));
    assertThat(dir.stat(p("escape2"))).isEqualTo(new Node.Link("../../outside"));
  }

  @Test
  void copy_intoExistingDirectory_vsOntoNewName() throws IOException {
    dir.mkdir(p("src/sub"), true);
    write("src/sub/f", "f");
    dir.mkdir(p("dst"), false);
    dir.copy(p("src"), p("dst"));
    assertThat(read("dst/src/sub/f")).isEqualTo("f");
    dir.copy(p("src"), p("renamed"));
    assertThat(read("renamed/sub/f")).isEqualTo("f");
    write("src/sub/f", "changed");
    assertThat(read("renamed/sub/f")).as("a copy is independent of its source").isEqualTo("f");
  }

  @Test
  void copy_fileOntoFile_replaces_dirOntoFile_fails() throws IOException {
    write("a", "a");
    write("b", "b");
    dir.copy(p("a"), p("b"));
    assertThat(read("b")).isEqualTo("a");
    dir.mkdir(p("d"), false);
    assertThatThrownBy(() -> dir.copy(p("d"), p("b"))).isInstanceOf(FileSystemException.class)
        .hasMessageContaining("non-directory");
  }

  @Test
  void copy_directoryOntoExistingDirectory_merges() throws IOException {
    dir.mkdir(p("src/d"), true);
    write("src/d/new", "new");
    write("src/d/both", "from src");
    dir.mkdir(p("dst/src/d"), true);
    write("dst/src/d/both", "old");
    write("dst/src/d/keep", "keep");
    dir.copy(p("src"), p("dst"));
    assertThat(names("dst/src/d")).containsExactly("both", "keep", "new");
    assertThat(read("dst/src/d/both")).isEqualTo("from src");
  }

  @Test
  void copy_directoryIntoItself_fails() throws IOException {
    dir.mkdir(p("a/b"), true);
    assertThatThrownBy(() -> dir.copy(p("a"), p("a/b"))).isInstanceOf(FileSystemException.class)
        .hasMessageContaining("into itself");
  }

  @Test
  void move_renames_movesInto_replacesFile() throws IOException {
    write("f", "f");
    dir.move(p("f"), p("g"));
    assertThat(names("")).containsExactly("g");
    dir.mkdir(p("d"), false);
    dir.move(p("g"), p("d"));
    assertThat(read("d/g")).isEqualTo("f");
    write("h", "h");
    dir.move(p("h"), p("d/g"));
    assertThat(read("d/g")).isEqualTo("h");
    assertThat(names("")).containsExactly("d");
  }

  @Test
  void move_directoryIntoItself_fails_andChangesNothing() throws IOException {
    dir.mkdir(p("a/b"), true);
    Digest before = dir.snapshot();
    assertThatThrownBy(() -> dir.move(p("a"), p("a/b"))).isInstanceOf(FileSystemException.class)
        .hasMessageContaining("into itself");
    assertThat(dir.snapshot()).isEqualTo(before);
  }

  @Test
  void move_directoryOntoDirectories() throws IOException {
    dir.mkdir(p("src"), false);
    write("src/f", "f");
    dir.mkdir(p("empty"), false);
    dir.mkdir(p("full/src"), true);
    write("full/src/x", "x");
    assertThatThrownBy(() -> dir.move(p("src"), p("full"))).isInstanceOf(DirectoryNotEmptyException.class);
    write("file", "file");
    assertThatThrownBy(() -> dir.move(p("src"), p("file/x"))).isInstanceOf(FileSystemException.class);
    dir.move(p("src"), p("empty"));
    assertThat(read("empty/src/f")).isEqualTo("f");
  }

  // ------------------------------------------------------------------ rename(2)

  private void rename(String source, String target, RenameOption... options) throws IOException {
    dir.rename(p(source), p(target), options.length == 0 ? Set.of() : EnumSet.copyOf(List.of(options)));
  }

  @Test
  void rename_fileToNewName_andOverFileOrSymlink() throws IOException {
    write("a", "a");
    rename("a", "b");
    assertThat(names("")).containsExactly("b");
    write("c", "c");
    rename("b", "c");
    assertThat(names("")).containsExactly("c");
    assertThat(read("c")).isEqualTo("a");
    dir.symlink("nowhere", p("link"));
    rename("c", "link");
    assertThat(dir.stat(p("link"))).isInstanceOf(Node.File.class);
    assertThat(read("link")).isEqualTo("a");
    dir.symlink("x", p("l2"));
    write("f", "f");
    rename("l2", "f");
    assertThat(dir.stat(p("f"))).isEqualTo(new Node.Link("x"));
  }

  @Test
  void rename_neverMovesIntoAnExistingDirectory() throws IOException {
    dir.mkdir(p("d"), false);
    write("d/inside", "x");
    dir.mkdir(p("empty"), false);
    write("f", "f");
    assertThatThrownBy(() -> rename("f", "empty")).isInstanceOf(IsDirectoryException.class);
    assertThatThrownBy(() -> rename("d", "f")).isInstanceOf(NotDirectoryException.class);
    dir.mkdir(p("full"), false);
    write("full/x", "x");
    assertThatThrownBy(() -> rename("d", "full")).isInstanceOf(DirectoryNotEmptyException.class);
    assertThat(names("")).containsExactly("d", "empty", "f", "full");
    rename("d", "empty");
    assertThat(names("")).containsExactly("empty", "f", "full");
    assertThat(read("empty/inside")).isEqualTo("x");
  }

  @Test
  void rename_directoryKeepsItsSubtree_andMovesAcrossDirectories() throws IOException {
    dir.mkdir(p("a/b/c"), true);
    write("a/b/c/f", "deep");
    dir.mkdir(p("x"), false);
    rename("a/b", "x/renamed");
    assertThat(read("x/renamed/c/f")).isEqualTo("deep");
    assertThat(names("a")).isEmpty();
  }

  @Test
  void rename_errors_changeNothing() throws IOException {
    dir.mkdir(p("a/b"), true);
    write("a/b/f", "f");
    write("file", "file");
    Digest before = dir.snapshot();
    assertThatThrownBy(() -> rename("a", "a/b/c")).isInstanceOf(InvalidOperationException.class);
    assertThatThrownBy(() -> rename("a", "a/c")).isInstanceOf(InvalidOperationException.class);
    assertThatThrownBy(() -> rename("a/b", "a")).isInstanceOf(DirectoryNotEmptyException.class);
    assertThatThrownBy(() -> rename("missing", "x")).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> rename("file", "nodir/x")).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> rename("file", "file/x")).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> dir.rename(TreePath.ROOT, p("r"), Set.of()))
        .isInstanceOf(InvalidOperationException.class);
    assertThatThrownBy(() -> dir.rename(p("file"), TreePath.ROOT, Set.of()))
        .isInstanceOf(InvalidOperationException.class);
    assertThatThrownBy(() -> rename("file", "x", RenameOption.NO_REPLACE, RenameOption.EXCHANGE))
        .isInstanceOf(InvalidOperationException.class);
    assertThat(dir.snapshot()).isEqualTo(before);
  }

  @Test
  void rename_ontoItself_isANoOp() throws IOException {
    dir.mkdir(p("d"), false);
    write("d/f", "f");
    Digest before = dir.snapshot();
    rename("d/f", "d/f");
    rename("d", "d");
    rename("d", "d", RenameOption.EXCHANGE);
    assertThat(dir.snapshot()).isEqualTo(before);
  }

  @Test
  void rename_noReplace_failsIfTargetExists() throws IOException {
    write("a", "a");
    write("b", "b");
    dir.mkdir(p("d"), false);
    assertThatThrownBy(() -> rename("a", "b", RenameOption.NO_REPLACE))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThatThrownBy(() -> rename("a", "d", RenameOption.NO_REPLACE))
        .isInstanceOf(FileAlreadyExistsException.class);
    assertThatThrownBy(() -> rename("a", "a", RenameOption.NO_REPLACE))
        .as("as renameat2: the target exists").isInstanceOf(FileAlreadyExistsException.class);
    assertThat(read("b")).isEqualTo("b");
    rename("a", "c", RenameOption.NO_REPLACE);
    assertThat(names("")).containsExactly("b", "c", "d");
  }

  @Test
  void rename_exchange_swapsEntriesOfAnyKind() throws IOException {
    dir.mkdir(p("d/sub"), true);
    write("d/sub/f", "in dir");
    dir.mkdir(p("other"), false);
    write("other/file", "a file");
    dir.setExecutable(p("other/file"), true);
    rename("d", "other/file", RenameOption.EXCHANGE);
    assertThat(read("d")).isEqualTo("a file");
    assertThat(((Node.File) dir.stat(p("d"))).executable()).isTrue();
    assertThat(read("other/file/sub/f")).isEqualTo("in dir");
    write("x", "x");
    write("y", "y");
    rename("x", "y", RenameOption.EXCHANGE);
    assertThat(read("x")).isEqualTo("y");
    assertThat(read("y")).isEqualTo("x");
    assertThatThrownBy(() -> rename("x", "absent", RenameOption.EXCHANGE))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> rename("other", "other/file/sub", RenameOption.EXCHANGE))
        .isInstanceOf(InvalidOperationException.class);
    assertThatThrownBy(() -> rename("other/file/sub", "other", RenameOption.EXCHANGE))
        .isInstanceOf(InvalidOperationException.class);
    assertThat(read("x")).isEqualTo("y");
  }

  @Test
  void rename_snapshotEqualsImportOfTheRenamedRealTree() throws IOException {
    dir.mkdir(p("src/lib"), true);
    write("src/lib/a.c", "a");
    write("src/main.c", "main");
    rename("src/lib", "lib");
    rename("src/main.c", "main.c");
    Path real = Files.createDirectories(tmp.resolve("real"));
    Files.createDirectories(real.resolve("src"));
    Files.createDirectories(real.resolve("lib"));
    Files.writeString(real.resolve("lib/a.c"), "a");
    Files.writeString(real.resolve("main.c"), "main");
    assertThat(dir.snapshot()).isEqualTo(importedDigest(real));
  }

  @Test
  void readingOrWritingADirectory_isIsDirectoryException() throws IOException {
    dir.mkdir(p("d"), false);
    assertThatThrownBy(() -> dir.read(p("d"))).isInstanceOf(IsDirectoryException.class);
    assertThatThrownBy(() -> write("d", "x")).isInstanceOf(IsDirectoryException.class);
    assertThatThrownBy(() -> dir.copy(p("d"), p("d/e"))).isInstanceOf(InvalidOperationException.class);
    assertThatThrownBy(() -> dir.move(p("d"), p("d/e"))).isInstanceOf(InvalidOperationException.class);
  }

  @Test
  void remove_fileEmptyDirNonEmptyDir() throws IOException {
    dir.mkdir(p("d/e"), true);
    write("d/e/f", "f");
    assertThatThrownBy(() -> dir.remove(p("d"), false)).isInstanceOf(DirectoryNotEmptyException.class);
    dir.remove(p("d/e/f"), false);
    dir.remove(p("d/e"), false);
    dir.mkdir(p("d/x/y"), true);
    dir.remove(p("d"), true);
    assertThat(dir.list(TreePath.ROOT)).isEmpty();
    assertThatThrownBy(() -> dir.remove(p("d"), true)).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> dir.remove(TreePath.ROOT, true)).isInstanceOf(FileSystemException.class);
  }

  @Test
  void hostilePaths_areRejectedBeforeAnyBackendSeesThem() {
    for (String bad : List.of("/abs", "a/../b", "..", "a//b", "./a", "a/\0")) {
      assertThatThrownBy(() -> TreePath.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void snapshot_equalsImportOfTheSameRealTree() throws IOException {
    dir.mkdir(p("src/empty"), true);
    write("src/main.c", "int main() {}\n");
    write("run.sh", "#!/bin/sh\n");
    dir.setExecutable(p("run.sh"), true);
    dir.symlink("src/main.c", p("link"));
    Path real = Files.createDirectories(tmp.resolve("real"));
    Files.createDirectories(real.resolve("src/empty"));
    Files.writeString(real.resolve("src/main.c"), "int main() {}\n");
    Path run = Files.writeString(real.resolve("run.sh"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(real.resolve("link"), Path.of("src/main.c"));
    assertThat(dir.snapshot()).isEqualTo(importedDigest(real));
  }

  @Test
  void importAndExport_roundTrip() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("in/tree"));
    Files.createDirectories(src.resolve("a/empty"));
    Files.writeString(src.resolve("a/f"), "content");
    Files.createSymbolicLink(src.resolve("l"), Path.of("a/f"));
    dir.mkdir(p("imports"), false);
    dir.importFrom(src, p("imports"));
    assertThat(read("imports/tree/a/f")).isEqualTo("content");
    Path out = tmp.resolve("out");
    dir.exportTo(p("imports/tree"), out);
    assertThat(importedDigest(out)).isEqualTo(importedDigest(src));
    assertThatThrownBy(() -> dir.exportTo(p("imports/tree"), out)).isInstanceOf(FileAlreadyExistsException.class);
  }
}
