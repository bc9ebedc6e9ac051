package dev.cairn.core.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.blob.InMemoryBlobStore.Operation;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TreeUploaderTest {
  @TempDir Path dir;
  private final InMemoryBlobStore source = new InMemoryBlobStore();
  private final InMemoryBlobStore target = new InMemoryBlobStore();

  private Digest tree(String name, String changed) throws IOException {
    Path root = dir.resolve(name);
    Files.createDirectories(root.resolve("a/b/c"));
    Files.createDirectories(root.resolve("empty"));
    for (int i = 0; i < 1_500; i++) { // more than one findMissing batch
      Files.writeString(root.resolve("a/f" + i), "file " + i);
    }
    Files.writeString(root.resolve("a/b/c/deep"), changed);
    Files.createSymbolicLink(root.resolve("link"), Path.of("a/f1"));
    return new MerkleTreeBuilder(source).build(root).root();
  }

  @Test
  void copiesEveryBlobOfTheTree_andTheCopyWalksTheSame() throws IOException {
    Digest root = tree("t", "v1");

    TreeUploader.Result result = new TreeUploader(source, target).upload(root);

    // 1,500 files + deep + 5 directories (root, a, a/b, a/b/c, empty); the empty directory is
    // the empty blob, which every store has without storing it
    assertThat(result.blobs()).isEqualTo(1_500 + 1 + 5);
    assertThat(result.missing()).isEqualTo(result.blobs() - 1);
    assertThat(target.size()).isEqualTo(result.missing());
    var deep = (TreeWalker.FileEntry) new TreeWalker(target).resolve(root, "a/b/c/deep");
    assertThat(target.get(Digest.fromProto(deep.node().getDigest())))
        .isEqualTo("v1".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void sendsOnlyWhatTheTargetLacks() throws IOException {
    Digest v1 = tree("t1", "v1");
    new TreeUploader(source, target).upload(v1);
    long putsBefore = target.calls(Operation.PUT);
    Digest v2 = tree("t2", "v2");

    TreeUploader.Result result = new TreeUploader(source, target).upload(v2);

    // the changed file and the Directory blobs on its path: root, a, a/b, a/b/c
    assertThat(result.missing()).isEqualTo(5);
    assertThat(target.calls(Operation.PUT) - putsBefore).isEqualTo(5);
    assertThat(new TreeUploader(source, target).upload(v2).missing()).isZero();
  }

  @Test
  void aBlobMissingOnBothSides_failsNamingIt() throws IOException {
    Digest root = tree("t", "v1");
    var deep = (TreeWalker.FileEntry) new TreeWalker(source).resolve(root, "a/b/c/deep");
    Digest lost = Digest.fromProto(deep.node().getDigest());
    source.remove(lost);

    assertThatThrownBy(() -> new TreeUploader(source, target).upload(root))
        .isInstanceOf(BlobNotFoundException.class)
        .hasMessageContaining(lost.hash());
  }
}
