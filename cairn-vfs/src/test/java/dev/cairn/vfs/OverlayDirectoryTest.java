package dev.cairn.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.blob.InMemoryBlobStore.Operation;
import dev.cairn.core.digest.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The contract over an empty lower tree, plus what the overlay adds: edits over a stored tree read
 * and hash only what changed, and give the digest the same tree has when built any other way.
 */
class OverlayDirectoryTest extends DirectoryContractTest {

  @Override
  protected Directory newDirectory(BlobStore store, Path tmp) throws IOException {
    return OverlayDirectory.over(CasDirectory.empty(store), store, tmp.resolve("scratch"));
  }

  /** A stored tree: big/d0..d9 with 200 one-byte files, tool (executable), link -> big. */
  private Digest lowerTree() throws IOException {
    CasDirectory cas = CasDirectory.empty(store);
    for (int i = 0; i < 200; i++) {
      cas.mkdir(p("big/d" + (i % 10)), true);
      cas.write(p("big/d" + (i % 10) + "/f" + i), new ByteArrayInputStream(new byte[] {(byte) i}));
    }
    cas.write(p("tool"), new ByteArrayInputStream("#!/bin/sh\n".getBytes()));
    cas.setExecutable(p("tool"), true);
    cas.symlink("big", p("link"));
    return cas.snapshot();
  }

  /** {@code target} as a Directory that records every file read through it. */
  private static Directory recordingReads(Directory target, List<String> reads) {
    return (Directory) Proxy.newProxyInstance(Directory.class.getClassLoader(),
        new Class<?>[] {Directory.class}, (proxy, method, args) -> {
          if (method.getName().equals("read") || method.getName().equals("exportTo")) {
            reads.add(method.getName() + " " + args[0]);
          }
          try {
            return method.invoke(target, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  private List<Path> scratchFiles() throws IOException {
    try (Stream<Path> files = Files.list(tmp.resolve("overlay-scratch"))) {
      return files.toList();
    }
  }

  @Test
  void editsOverAStoredTree_neverReadUntouchedFiles_andEqualTheSameEditsOnACasDirectory()
      throws IOException {
    Digest base = lowerTree();
    InMemoryBlobStore memory = (InMemoryBlobStore) store;
    List<String> reads = new ArrayList<>();
    long openReadsBefore = memory.calls(Operation.OPEN_READ);
    long putsBefore = memory.calls(Operation.PUT);
    Digest edited;
    try (OverlayDirectory overlay = OverlayDirectory.over(
        recordingReads(CasDirectory.open(store, base), reads), store, tmp.resolve("overlay-scratch"))) {
      overlay.copy(p("big"), p("copy"));
      overlay.move(p("copy/d3"), p("moved"));
      overlay.remove(p("big/d5"), true);
      overlay.remove(p("big/d1/f11"), false);
      overlay.setExecutable(p("big/d2/f2"), true);
      overlay.mkdir(p("new/empty"), true);
      overlay.symlink("../tool", p("new/link"));
      overlay.write(p("new/file"), new ByteArrayInputStream("new".getBytes()));
      overlay.write(p("tool"), new ByteArrayInputStream("#!/bin/sh\nexit 0\n".getBytes()));
      assertThat(scratchFiles()).as("new contents wait in scratch").hasSize(2);
      edited = overlay.snapshot();
      assertThat(scratchFiles()).as("stored contents leave scratch").isEmpty();
      assertThat(((Node.File) overlay.stat(p("tool"))).executable()).isTrue();
    }
    assertThat(reads).as("no file of the lower tree was read").isEmpty();
    // Directory messages are listed (a few, some more than once), never the 200 files.
    assertThat(memory.calls(Operation.OPEN_READ) - openReadsBefore).isLessThan(60);
    // Two new files + root, big, big/d1, big/d2, copy, new, new/empty Directory messages.
    assertThat(memory.calls(Operation.PUT) - putsBefore).isLessThanOrEqualTo(9);

    CasDirectory expected = CasDirectory.open(store, base);
    expected.copy(p("big"), p("copy"));
    expected.move(p("copy/d3"), p("moved"));
    expected.remove(p("big/d5"), true);
    expected.remove(p("big/d1/f11"), false);
    expected.setExecutable(p("big/d2/f2"), true);
    expected.mkdir(p("new/empty"), true);
    expected.symlink("../tool", p("new/link"));
    expected.write(p("new/file"), new ByteArrayInputStream("new".getBytes()));
    expected.write(p("tool"), new ByteArrayInputStream("#!/bin/sh\nexit 0\n".getBytes()));
    assertThat(edited).isEqualTo(expected.snapshot());
  }

  @Test
  void untouchedOverlay_snapshotsToTheLowerRoot_withoutWritingAnything() throws IOException {
    Digest base = lowerTree();
    long putsBefore = ((InMemoryBlobStore) store).calls(Operation.PUT);
    try (OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.open(store, base), store, tmp.resolve("s"))) {
      assertThat(overlay.snapshot()).isEqualTo(base);
      overlay.mkdir(p("x"), false);
      overlay.remove(p("x"), false);
      assertThat(overlay.snapshot()).isEqualTo(base);
    }
    assertThat(((InMemoryBlobStore) store).calls(Operation.PUT) - putsBefore)
        .as("only the root message, rewritten once with the same content").isLessThanOrEqualTo(1);
  }

  @Test
  void readsFallThrough_untilAPathChanges_andTheLowerNeverChanges() throws IOException {
    Digest base = lowerTree();
    CasDirectory lower = CasDirectory.open(store, base);
    try (OverlayDirectory overlay = OverlayDirectory.over(lower, store, tmp.resolve("s"))) {
      assertThat(overlay.stat(p("big/d7/f7"))).isEqualTo(lower.stat(p("big/d7/f7")));
      overlay.write(p("big/d7/f7"), new ByteArrayInputStream("changed".getBytes()));
      try (InputStream in = overlay.read(p("big/d7/f7"))) {
        assertThat(new String(in.readAllBytes())).isEqualTo("changed");
      }
      overlay.remove(p("big"), true);
      assertThatThrownBy(() -> overlay.stat(p("big"))).isInstanceOf(NoSuchFileException.class);
      assertThat(overlay.stat(p("link"))).isEqualTo(new Node.Link("big"));
    }
    assertThat(lower.snapshot()).isEqualTo(base);
    try (InputStream in = lower.read(p("big/d7/f7"))) {
      assertThat(in.readAllBytes()).containsExactly(7);
    }
  }

  @Test
  void close_deletesScratchFilesNotYetSnapshotted() throws IOException {
    Path scratch = tmp.resolve("overlay-scratch");
    OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.empty(store), store, scratch);
    overlay.write(p("a"), new ByteArrayInputStream("a".getBytes()));
    overlay.copy(p("a"), p("b"));
    assertThat(scratchFiles()).hasSize(1);
    overlay.close();
    assertThat(scratchFiles()).isEmpty();
  }
}
