package dev.cairn.vfs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.blob.InMemoryBlobStore.Operation;
import dev.cairn.core.digest.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class CasDirectoryTest extends DirectoryContractTest {
  @Override
  protected Directory newDirectory(BlobStore store, Path tmp) {
    return CasDirectory.empty(store);
  }

  @Test
  void reopeningASnapshot_givesTheSameTree_loadedLazily() throws IOException {
    dir.mkdir(p("a/b/c"), true);
    write("a/b/c/f", "deep");
    write("top", "top");
    Digest root = dir.snapshot();
    InMemoryBlobStore memory = (InMemoryBlobStore) store;
    long readsBefore = memory.calls(Operation.OPEN_READ);
    CasDirectory reopened = CasDirectory.open(store, root);
    assertThat(reopened.list(TreePath.ROOT)).hasSize(2);
    assertThat(memory.calls(Operation.OPEN_READ) - readsBefore).as("only the root was loaded").isEqualTo(1);
    assertThat(new String(reopened.read(p("a/b/c/f")).readAllBytes())).isEqualTo("deep");
    assertThat(reopened.snapshot()).isEqualTo(root);
  }

  @Test
  void copyingALargeSubtree_sharesIt_andSnapshotWritesOnlyTheChangedPath() throws IOException {
    for (int i = 0; i < 200; i++) {
      dir.mkdir(p("big/d" + (i % 10)), true);
      dir.write(p("big/d" + (i % 10) + "/f" + i), new ByteArrayInputStream(new byte[] {(byte) i}));
    }
    Digest first = dir.snapshot();
    InMemoryBlobStore memory = (InMemoryBlobStore) store;
    long putsBefore = memory.calls(Operation.PUT);
    dir.copy(p("big"), p("copy"));
    Digest second = dir.snapshot();
    assertThat(second).isNotEqualTo(first);
    assertThat(memory.calls(Operation.PUT) - putsBefore).as("only the new root Directory is written").isEqualTo(1);
    assertThat(dir.stat(p("copy"))).isEqualTo(dir.stat(p("big")));
  }
}
