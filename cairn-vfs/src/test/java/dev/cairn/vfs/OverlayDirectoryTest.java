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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.StandardOpenOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
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

  // ------------------------------------------------------------------ files edited in place

  private static void overwrite(Path file, String content) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
      ch.truncate(0);
      ch.write(ByteBuffer.wrap(content.getBytes(StandardCharsets.UTF_8)));
    }
  }

  private static String contentOf(Directory d, String path) throws IOException {
    try (InputStream in = d.read(p(path))) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void scratchFile_copiesUpOnce_andInPlaceEditsAreWhatStatReadAndSnapshotSee() throws IOException {
    Digest base = lowerTree();
    CasDirectory lower = CasDirectory.open(store, base);
    try (OverlayDirectory overlay = OverlayDirectory.over(lower, store, tmp.resolve("s"))) {
      Path scratch = overlay.scratchFile(p("tool"));
      assertThat(Files.readString(scratch)).as("copied up from the lower tree").isEqualTo("#!/bin/sh\n");
      assertThat(overlay.scratchFile(p("tool"))).as("once").isEqualTo(scratch);
      try (FileChannel ch = FileChannel.open(scratch, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
        ch.write(ByteBuffer.wrap("exit 3\n".getBytes(StandardCharsets.UTF_8)));
      }
      assertThat(overlay.stat(p("tool"))).isEqualTo(new Node.File(17, true, Optional.empty()));
      assertThat(contentOf(overlay, "tool")).isEqualTo("#!/bin/sh\nexit 3\n");
      Digest edited = overlay.snapshot();

      CasDirectory expected = CasDirectory.open(store, base);
      expected.write(p("tool"), new ByteArrayInputStream("#!/bin/sh\nexit 3\n".getBytes()));
      assertThat(edited).isEqualTo(expected.snapshot());
      assertThat(Files.exists(scratch)).as("a live file stays in scratch after a snapshot").isTrue();
    }
    assertThat(lower.snapshot()).isEqualTo(base);
    assertThat(contentOf(lower, "tool")).isEqualTo("#!/bin/sh\n");
  }

  @Test
  void scratchFile_ofAFileWrittenThroughTheOverlay_andErrors() throws IOException {
    Digest base = lowerTree();
    try (OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.open(store, base), store, tmp.resolve("s"))) {
      overlay.write(p("new"), new ByteArrayInputStream("fresh".getBytes()));
      overlay.copy(p("new"), p("copy"));
      Path scratch = overlay.scratchFile(p("new"));
      overwrite(scratch, "edited");
      assertThat(contentOf(overlay, "copy")).as("a copy sharing the written file is unaffected").isEqualTo("fresh");
      assertThat(contentOf(overlay, "new")).isEqualTo("edited");
      assertThatThrownBy(() -> overlay.scratchFile(p("big"))).isInstanceOf(IsDirectoryException.class);
      assertThatThrownBy(() -> overlay.scratchFile(TreePath.ROOT)).isInstanceOf(IsDirectoryException.class);
      assertThatThrownBy(() -> overlay.scratchFile(p("link"))).isInstanceOf(FileSystemException.class)
          .hasMessageContaining("symbolic link");
      assertThatThrownBy(() -> overlay.scratchFile(p("absent"))).isInstanceOf(NoSuchFileException.class);
      assertThatThrownBy(() -> overlay.scratchFile(p("link/d1"))).isInstanceOf(NotDirectoryException.class);
    }
  }

  @Test
  void liveFile_isHashedAgainAtEverySnapshotWhileItChanges() throws IOException {
    try (OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.empty(store), store, tmp.resolve("s"))) {
      overlay.mkdir(p("d"), false);
      overlay.write(p("d/f"), new ByteArrayInputStream(new byte[0]));
      Path f = overlay.scratchFile(p("d/f"));
      List<Digest> roots = new ArrayList<>();
      for (String v : List.of("v1", "v2", "v3", "v1")) {
        overwrite(f, v); // same size, within one timestamp tick: only the bytes differ
        roots.add(overlay.snapshot());
        CasDirectory expected = CasDirectory.empty(store);
        expected.mkdir(p("d"), false);
        expected.write(p("d/f"), new ByteArrayInputStream(v.getBytes()));
        assertThat(roots.getLast()).as(v).isEqualTo(expected.snapshot());
      }
      assertThat(roots.get(0)).isNotEqualTo(roots.get(1)).isEqualTo(roots.get(3));
      assertThat(overlay.stat(p("d"))).as("no settled digest while a live file is below")
          .isEqualTo(new Node.Dir(Optional.empty()));
    }
  }

  @Test
  void liveFile_unchangedSinceASettledHash_isNotReadAgain() throws Exception {
    InMemoryBlobStore memory = (InMemoryBlobStore) store;
    try (OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.empty(store), store, tmp.resolve("s"))) {
      overlay.write(p("f"), new ByteArrayInputStream(new byte[0]));
      overwrite(overlay.scratchFile(p("f")), "content");
      Digest first = overlay.snapshot(); // just written: hashed, not trusted yet
      Thread.sleep(1100);
      long puts = memory.calls(Operation.PUT);
      assertThat(overlay.snapshot()).isEqualTo(first); // hashed again, now settled
      long putsWhenHashed = memory.calls(Operation.PUT) - puts;
      puts = memory.calls(Operation.PUT);
      assertThat(overlay.snapshot()).isEqualTo(first);
      assertThat(memory.calls(Operation.PUT) - puts).as("the file blob is not stored again")
          .isEqualTo(putsWhenHashed - 1);
      overwrite(overlay.scratchFile(p("f")), "CONTENT");
      assertThat(overlay.snapshot()).isNotEqualTo(first);
    }
  }

  @Test
  void liveFile_followsRenames_isFrozenByCopies_andIsDeletedWhenRemoved() throws IOException {
    Path scratchDir = tmp.resolve("s");
    try (OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.empty(store), store, scratchDir)) {
      overlay.write(p("a"), new ByteArrayInputStream("1".getBytes()));
      Path live = overlay.scratchFile(p("a"));
      try (FileChannel ch = FileChannel.open(live, StandardOpenOption.WRITE)) {
        overlay.rename(p("a"), p("b"), Set.of());
        ch.write(ByteBuffer.wrap("2".getBytes()));
        assertThat(contentOf(overlay, "b")).as("the open channel still writes the renamed file").isEqualTo("2");
        overlay.copy(p("b"), p("c"));
        ch.write(ByteBuffer.wrap("3".getBytes()), 1);
        assertThat(contentOf(overlay, "b")).isEqualTo("23");
        assertThat(contentOf(overlay, "c")).as("a copy is a frozen copy").isEqualTo("2");
        overlay.remove(p("b"), false);
        assertThat(Files.exists(live)).as("a removed live file leaves scratch at once").isFalse();
        ch.write(ByteBuffer.wrap("4".getBytes()), 2); // as after unlink(2): still writable
      }
      Digest root = overlay.snapshot();
      CasDirectory expected = CasDirectory.empty(store);
      expected.write(p("c"), new ByteArrayInputStream("2".getBytes()));
      assertThat(root).isEqualTo(expected.snapshot());
    }
    try (Stream<Path> left = Files.list(scratchDir)) {
      assertThat(left).as("close deletes the rest").isEmpty();
    }
  }

  @Test
  void statBelowAnUntouchedDirectory_isOneLowerStat_notAListingPerLevel() throws IOException {
    Digest base = lowerTree();
    List<String> calls = new ArrayList<>();
    try (OverlayDirectory overlay = OverlayDirectory.over(
        recording(CasDirectory.open(store, base), calls, "stat", "list", "read"), store, tmp.resolve("s"))) {
      calls.clear();
      assertThat(overlay.stat(p("big/d7/f7"))).isInstanceOf(Node.File.class);
      assertThat(calls).containsExactly("stat big/d7/f7");
      overlay.write(p("big/new"), new ByteArrayInputStream("n".getBytes()));
      calls.clear();
      assertThat(overlay.stat(p("big/d7/f17"))).isInstanceOf(Node.File.class);
      assertThat(calls).as("big was copied by the write; d7 is still untouched").containsExactly("stat big/d7/f17");
      calls.clear();
      assertThatThrownBy(() -> overlay.stat(p("big/d7/nope"))).isInstanceOf(NoSuchFileException.class);
      assertThatThrownBy(() -> overlay.stat(p("tool/x"))).isInstanceOf(NotDirectoryException.class)
          .hasMessageContaining("tool");
    }
  }

  @Test
  void concurrentReadersAndWriters_seeConsistentTrees() throws Exception {
    Digest base = lowerTree();
    try (OverlayDirectory overlay = OverlayDirectory.over(CasDirectory.open(store, base), store, tmp.resolve("s"));
        ExecutorService pool = Executors.newFixedThreadPool(4)) {
      AtomicBoolean stop = new AtomicBoolean();
      List<Future<Integer>> readers = new ArrayList<>();
      for (int r = 0; r < 3; r++) {
        readers.add(pool.submit(() -> {
          int reads = 0;
          while (!stop.get()) {
            int i = reads % 200;
            try (InputStream in = overlay.read(p("big/d" + (i % 10) + "/f" + i))) {
              assertThat(in.readAllBytes()).containsExactly((byte) i);
            }
            assertThat(overlay.list(p("big/d" + (i % 10)))).hasSize(20);
            reads++;
          }
          return reads;
        }));
      }
      Future<?> writer = pool.submit(() -> {
        for (int i = 0; i < 100; i++) {
          overlay.mkdir(p("w/" + i), true);
          overlay.write(p("w/" + i + "/f"), new ByteArrayInputStream(("v" + i).getBytes()));
          Path live = overlay.scratchFile(p("w/" + i + "/f"));
          overwrite(live, "live" + i);
          overlay.rename(p("w/" + i), p("w/r" + i), Set.of());
          if (i % 20 == 0) {
            overlay.snapshot();
          }
        }
        return null;
      });
      writer.get(60, TimeUnit.SECONDS);
      stop.set(true);
      for (Future<Integer> r : readers) {
        assertThat(r.get(10, TimeUnit.SECONDS)).isPositive();
      }
      CasDirectory expected = CasDirectory.open(store, base);
      for (int i = 0; i < 100; i++) {
        expected.mkdir(p("w/r" + i), true);
        expected.write(p("w/r" + i + "/f"), new ByteArrayInputStream(("live" + i).getBytes()));
      }
      assertThat(overlay.snapshot()).isEqualTo(expected.snapshot());
    }
  }

  /** {@code target} as a Directory that records calls to {@code methods} with their first argument. */
  private static Directory recording(Directory target, List<String> calls, String... methods) {
    Set<String> recorded = Set.of(methods);
    return (Directory) Proxy.newProxyInstance(Directory.class.getClassLoader(),
        new Class<?>[] {Directory.class}, (proxy, method, args) -> {
          if (recorded.contains(method.getName())) {
            calls.add(method.getName() + " " + args[0]);
          }
          try {
            return method.invoke(target, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }
}
