package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.vfs.CasDirectory;
import dev.cairn.vfs.TreePath;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiffCommandTest {

  @TempDir Path tmp;
  private CliRunner cairn;
  private String root;

  @BeforeEach
  void setUp() throws IOException {
    cairn = new CliRunner(tmp.resolve("store"));
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("a/b"));
    Files.createDirectories(src.resolve("same/deep"));
    Files.writeString(src.resolve("same/deep/s"), "s");
    Files.writeString(src.resolve("a/b/f"), "f");
    Files.writeString(src.resolve("a/g"), "g");
    Files.writeString(src.resolve("a-c"), "a-c");
    Files.writeString(src.resolve("tool"), "tool");
    Files.createSymbolicLink(src.resolve("link"), Path.of("a"));
    Files.writeString(src.resolve("becomes-dir"), "file");
    root = cairn.ok("import", src.toString()).line();
  }

  private String edit(String... lines) throws IOException {
    Path script = Files.write(tmp.resolve("script"), List.of(lines));
    return cairn.ok("edit", root, "--script", script.toString()).line();
  }

  @Test
  void identicalTrees_printNothing() {
    CliRunner.Result r = cairn.ok("diff", root, root);
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void addedRemovedAndModifiedPaths_sortedByPathInUtf8Order() throws IOException {
    Path newFile = Files.writeString(tmp.resolve("new"), "changed");
    String edited = edit(
        "write a/b/f " + newFile,          // content
        "chmod +x tool",                   // exec bit
        "remove link",
        "symlink elsewhere link",          // symlink target
        "remove becomes-dir",
        "mkdir becomes-dir",               // kind
        "remove a/g",                      // deleted
        "mkdir a/new/empty",               // added directory: one line
        "write a-c " + newFile,
        "write \u00e9 " + newFile,          // added, sorts after ASCII
        "write z " + newFile);

    assertThat(cairn.ok("diff", root, edited).lines()).containsExactly(
        "M a-c",
        "M a/b/f",
        "D a/g",
        "A a/new",
        "M becomes-dir",
        "M link",
        "M tool",
        "A z",
        "A \u00e9");
    assertThat(cairn.ok("diff", edited, root).lines()).contains("A a/g", "D a/new", "D z");
  }

  @Test
  void identicalSubtrees_areNeverRead() throws IOException {
    InMemoryBlobStore store = new InMemoryBlobStore();
    CasDirectory tree = CasDirectory.empty(store);
    for (int i = 0; i < 50; i++) {
      tree.mkdir(TreePath.parse("big/d" + i), true);
      tree.write(TreePath.parse("big/d" + i + "/f"), new ByteArrayInputStream(new byte[] {(byte) i}));
    }
    Digest before = tree.snapshot();
    tree.write(TreePath.parse("big/d7/f"), new ByteArrayInputStream(new byte[] {1, 2, 3}));
    tree.symlink("big", TreePath.parse("link"));
    Digest after = tree.snapshot();
    long reads = store.calls(InMemoryBlobStore.Operation.OPEN_READ);

    assertThat(DiffCommand.changes(store, before, after)).containsExactly(
        new DiffCommand.Change('M', "big/d7/f"), new DiffCommand.Change('A', "link"));
    assertThat(store.calls(InMemoryBlobStore.Operation.OPEN_READ) - reads)
        .as("root, big and big/d7 of each tree, once each").isEqualTo(6);
  }

  @Test
  void malformedDigest_isAUsageError() {
    assertThat(cairn.run("diff", root, "nope").exitCode()).isEqualTo(2);
  }

  @Test
  void help_explainsTheMarkers() {
    assertThat(cairn.ok("diff", "--help").stdout()).contains("'A path'").contains("identical subtrees");
  }
}
