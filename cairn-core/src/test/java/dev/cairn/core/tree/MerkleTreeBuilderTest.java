package dev.cairn.core.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MerkleTreeBuilderTest {
  @TempDir Path dir;
  private final InMemoryBlobStore store = new InMemoryBlobStore();

  private Digest importTree(Path root) throws IOException {
    return new MerkleTreeBuilder(store).build(root).root();
  }

  @Test
  void emptyDirectory_hasTheEmptyDigest() throws IOException {
    Path empty = Files.createDirectory(dir.resolve("empty"));
    assertThat(importTree(empty)).isEqualTo(DigestFunction.SHA256.emptyDigest());
  }

  @Test
  void oneFile_encodesAsTheProtocolSays() throws IOException {
    Path root = Files.createDirectory(dir.resolve("one"));
    Files.writeString(root.resolve("a"), "hello\n");
    String fileHash = DigestFunction.SHA256.digestOf("hello\n".getBytes(StandardCharsets.US_ASCII)).hash();
    // Hand-written protobuf wire bytes of Directory{files:[{name:"a", digest:{hash, size:6}}]}.
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    wire.write(new byte[] {0x0a, 0x49, 0x0a, 0x01, 'a', 0x12, 0x44, 0x0a, 0x40});
    wire.writeBytes(fileHash.getBytes(StandardCharsets.US_ASCII));
    wire.write(new byte[] {0x10, 0x06});
    assertThat(importTree(root)).isEqualTo(DigestFunction.SHA256.digestOf(wire.toByteArray()));
  }

  @Test
  void canonicalOrder_isUtf8_notUtf16() throws IOException {
    Path root = Files.createDirectory(dir.resolve("order"));
    for (String name : List.of("z.txt", "\uD83D\uDE00.txt", "\uFFFD.txt", "A", "a")) {
      Files.writeString(root.resolve(name), name);
    }
    Directory d = new TreeWalker(store).load(importTree(root));
    assertThat(d.getFilesList()).extracting(FileNode::getName)
        .containsExactly("A", "a", "z.txt", "\uFFFD.txt", "\uD83D\uDE00.txt");
  }

  @Test
  void execBits_symlinks_emptyDirs_areRecorded() throws IOException {
    Path root = Files.createDirectory(dir.resolve("kinds"));
    Path tool = Files.writeString(root.resolve("tool"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(root.resolve("data"), "x");
    Files.createDirectories(root.resolve("empty/nested-empty"));
    Files.createSymbolicLink(root.resolve("link"), Path.of("../outside/target"));
    Files.createSymbolicLink(root.resolve("abs"), Path.of("/etc/hostname"));
    Directory d = new TreeWalker(store).load(importTree(root));
    assertThat(d.getFilesList()).extracting(FileNode::getName, FileNode::getIsExecutable)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("data", false),
            org.assertj.core.groups.Tuple.tuple("tool", true));
    assertThat(d.getSymlinksList()).extracting(s -> s.getName() + "->" + s.getTarget())
        .containsExactly("abs->/etc/hostname", "link->../outside/target");
    DirectoryNode empty = d.getDirectories(0);
    Directory emptyDir = new TreeWalker(store).load(Digest.fromProto(empty.getDigest()));
    assertThat(emptyDir.getDirectoriesList()).extracting(DirectoryNode::getName).containsExactly("nested-empty");
  }

  @Test
  void specialFile_isRefused_namingThePath() throws Exception {
    Path root = Files.createDirectory(dir.resolve("special"));
    Path fifo = root.resolve("pipe");
    Process p = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(p.waitFor()).isZero();
    assertThatThrownBy(() -> importTree(root))
        .isInstanceOf(SpecialFileException.class)
        .hasMessageContaining(fifo.toString())
        .hasMessageContaining("fifo");
  }

  @Test
  void missingDirectory_isAClearError() {
    assertThatThrownBy(() -> importTree(dir.resolve("nope")))
        .isInstanceOf(java.nio.file.NoSuchFileException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void identicalFiles_areStoredOnce_andReimportStoresNothing() throws IOException {
    Path root = Files.createDirectory(dir.resolve("dups"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(root.resolve("copy" + i), "same content");
    }
    MerkleTreeBuilder.Result first = new MerkleTreeBuilder(store).build(root);
    assertThat(first.files()).isEqualTo(20);
    assertThat(store.size()).isEqualTo(2); // one file blob, one Directory blob
    MerkleTreeBuilder.Result second = new MerkleTreeBuilder(store).build(root);
    assertThat(second.root()).isEqualTo(first.root());
    assertThat(second.blobsStored()).isZero();
  }

  /** Counts how often the progress was started and finished. */
  private static final class CountingProgress implements Progress {
    int started;
    int finished;
    Runnable onStart = () -> {};

    @Override
    public void start(String task, long files, long bytes) {
      started++;
      onStart.run();
    }

    @Override
    public void finish() {
      finished++;
    }
  }

  @Test
  void failedImportAndExport_finishTheirProgress() throws IOException {
    // A progress bar left unfinished keeps drawing: in a long-lived store service, for ever.
    Path root = Files.createDirectory(dir.resolve("vanishing"));
    Files.writeString(root.resolve("a"), "a");
    Files.writeString(root.resolve("b"), "b");
    CountingProgress importing = new CountingProgress();
    importing.onStart = () -> { // after the walk; "b" is read again to be stored, hashed or not
      try {
        Files.delete(root.resolve("b"));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    assertThatThrownBy(() -> new MerkleTreeBuilder(store, 2, importing, DigestCache.none())
        .build(root)).isInstanceOf(java.nio.file.NoSuchFileException.class);
    assertThat(importing.started).isEqualTo(1);
    assertThat(importing.finished).isEqualTo(1);

    Files.writeString(root.resolve("b"), "b");
    Digest tree = importTree(root);
    Path target = dir.resolve("out");
    CountingProgress exporting = new CountingProgress();
    exporting.onStart = () -> { // a directory where the export is about to write file "a"
      try {
        Files.createDirectory(target.resolve("a"));
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    };
    assertThatThrownBy(() -> new TreeExporter(store, 2, exporting).export(tree, target))
        .isInstanceOf(IOException.class);
    assertThat(exporting.started).isEqualTo(1);
    assertThat(exporting.finished).isEqualTo(1);
  }

  /** Adds up what an import reports; {@link #start} waits until a file is done, if asked to. */
  private static final class SummingProgress implements Progress {
    final java.util.concurrent.atomic.AtomicLong files = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.atomic.AtomicLong bytes = new java.util.concurrent.atomic.AtomicLong();
    final java.util.concurrent.CountDownLatch firstFile = new java.util.concurrent.CountDownLatch(1);
    boolean startWaitsForAFile;
    volatile boolean fileDoneBeforeStart;
    volatile long totalFiles = -1;
    volatile long totalBytes = -1;

    @Override
    public void start(String task, long files, long bytes) {
      if (startWaitsForAFile) {
        try {
          fileDoneBeforeStart = firstFile.await(10, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      totalFiles = files;
      totalBytes = bytes;
    }

    @Override
    public void advance(long bytes) {
      files.incrementAndGet();
      this.bytes.addAndGet(bytes);
      firstFile.countDown();
    }
  }

  @Test
  void hashingStartsBeforeTheWalkEnds_andProgressCountsEveryFileOnce() throws IOException {
    Path root = Files.createDirectory(dir.resolve("many"));
    long expectedBytes = 0;
    for (int d = 0; d < 8; d++) {
      Path sub = Files.createDirectories(root.resolve("d" + d).resolve("deeper"));
      for (int f = 0; f < 25; f++) {
        String content = "file " + d + "/" + f + " ".repeat(f * 10);
        Files.writeString((f % 2 == 0 ? sub : sub.getParent()).resolve("f" + f), content);
        expectedBytes += content.length();
      }
    }
    SummingProgress progress = new SummingProgress();
    // start() comes once the walk is over; it waits for a file to be done, which only happens
    // there if files are hashed while the walk still runs (a builder that walked first would make
    // it wait its full 10 s in vain).
    progress.startWaitsForAFile = true;
    MerkleTreeBuilder.Result result =
        new MerkleTreeBuilder(store, 2, progress, DigestCache.none()).build(root);

    assertThat(progress.fileDoneBeforeStart).isTrue();
    assertThat(result.files()).isEqualTo(200);
    assertThat(progress.totalFiles).isEqualTo(200);
    assertThat(progress.totalBytes).isEqualTo(expectedBytes);
    assertThat(progress.files.get()).isEqualTo(200);
    assertThat(progress.bytes.get()).isEqualTo(expectedBytes);
  }

  @Test
  void specialFileFoundLateInTheWalk_failsAtOnce_andStopsTheHashingUnderWay() throws Exception {
    // The root's files go to the pool before the walk enters "sub" (3,000 entries to stat) and
    // meets the fifo. Their hashing blocks (in progress) until the test ends it: the import must
    // fail with the fifo named without waiting for it, and interrupt it.
    Path root = Files.createDirectory(dir.resolve("late-fifo"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(root.resolve("f" + i), "file " + i);
    }
    Path sub = Files.createDirectory(root.resolve("sub"));
    for (int i = 0; i < 3000; i++) {
      Files.createFile(sub.resolve("e" + i));
    }
    Path fifo = sub.resolve("pipe");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mkfifo.waitFor()).isZero();
    java.util.concurrent.CountDownLatch never = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicInteger entered = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger interrupted = new java.util.concurrent.atomic.AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
    Progress blocking = new Progress() {
      @Override
      public void advance(long bytes) {
        entered.incrementAndGet();
        try {
          never.await();
        } catch (InterruptedException e) {
          interrupted.incrementAndGet();
          Thread.currentThread().interrupt();
        }
      }

      @Override
      public void finish() {
        finished.incrementAndGet();
      }
    };

    org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(20),
        () -> assertThatThrownBy(() -> new MerkleTreeBuilder(store, 2, blocking, DigestCache.none())
            .build(root))
            .isInstanceOf(SpecialFileException.class)
            .hasMessageContaining(fifo.toString()));
    assertThat(finished.get()).isEqualTo(1);
    // Without shutdownNow, closing the pool would wait for the blocked tasks: the timeout above.
    assertThat(entered.get()).as("hashing under way when the walk failed").isPositive();
    assertThat(interrupted.get()).as("hashing tasks interrupted").isEqualTo(entered.get());
  }

  @Test
  void export_refusesNonEmptyTarget() throws IOException {
    Path root = Files.createDirectory(dir.resolve("src"));
    Files.writeString(root.resolve("f"), "x");
    Digest d = importTree(root);
    Path target = Files.createDirectory(dir.resolve("target"));
    Files.writeString(target.resolve("existing"), "keep me");
    assertThatThrownBy(() -> new TreeExporter(store).export(d, target))
        .isInstanceOf(DirectoryNotEmptyException.class);
    assertThat(Files.readString(target.resolve("existing"))).isEqualTo("keep me");
  }

  @Test
  void export_ofHostileTree_writesNothingOutside() throws IOException {
    // A Directory message naming "..": a hostile or corrupt tree must be refused, not followed.
    Digest file = store.put("evil".getBytes(StandardCharsets.US_ASCII));
    Directory evil = Directory.newBuilder()
        .addFiles(FileNode.newBuilder().setName("..").setDigest(file.toProto())).build();
    Digest root = store.put(evil.toByteArray());
    Path target = dir.resolve("out");
    assertThatThrownBy(() -> new TreeExporter(store).export(root, target))
        .isInstanceOf(InvalidTreeException.class)
        .hasMessageContaining("..");
    List<Path> written = new ArrayList<>();
    try (var s = Files.walk(dir)) {
      s.filter(Files::isRegularFile).forEach(written::add);
    }
    assertThat(written).isEmpty();
  }

  @Test
  void unsortedDirectory_isRejectedAsNotCanonical() throws IOException {
    Digest a = store.put("a".getBytes(StandardCharsets.US_ASCII));
    Directory unsorted = Directory.newBuilder()
        .addFiles(FileNode.newBuilder().setName("b").setDigest(a.toProto()))
        .addFiles(FileNode.newBuilder().setName("a").setDigest(a.toProto())).build();
    Digest root = store.put(unsorted.toByteArray());
    assertThatThrownBy(() -> new TreeWalker(store).load(root))
        .isInstanceOf(InvalidTreeException.class)
        .hasMessageContaining("canonical order");
  }

  @Test
  void resolve_findsNodesByPath_andRejectsEscapes() throws IOException {
    Path root = Files.createDirectory(dir.resolve("res"));
    Files.createDirectories(root.resolve("a/b"));
    Files.writeString(root.resolve("a/b/c.txt"), "c");
    Digest d = importTree(root);
    TreeWalker walker = new TreeWalker(store);
    assertThat(walker.resolve(d, "a/b/c.txt")).isInstanceOf(TreeWalker.FileEntry.class);
    assertThat(walker.resolve(d, "a/b")).isInstanceOf(TreeWalker.DirectoryEntry.class);
    assertThatThrownBy(() -> walker.resolve(d, "a/../a")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> walker.resolve(d, "a/nope")).isInstanceOf(java.nio.file.NoSuchFileException.class);
    assertThatThrownBy(() -> walker.resolve(d, "a/b/c.txt/d")).isInstanceOf(java.nio.file.NotDirectoryException.class);
  }
}
