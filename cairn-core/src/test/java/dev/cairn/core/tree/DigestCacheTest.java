package dev.cairn.core.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.function.LongSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Imports through a {@link DigestCache}: what is read again, what is trusted, what is damaged. */
class DigestCacheTest {
  @TempDir Path dir;
  private final InMemoryBlobStore store = new InMemoryBlobStore();
  private Path tree;
  private Path cacheDir;
  /** A wall clock a minute ahead: every file written by the test has settled. */
  private final LongSupplier settled = () -> System.currentTimeMillis() + 60_000;

  @BeforeEach
  void makeTree() throws IOException {
    tree = Files.createDirectories(dir.resolve("tree/sub"));
    tree = tree.getParent();
    cacheDir = dir.resolve("cache");
    for (int i = 0; i < 30; i++) {
      Files.writeString(tree.resolve("sub/f" + i), "content " + i);
    }
    Files.writeString(tree.resolve("top"), "top file");
    Files.createSymbolicLink(tree.resolve("link"), Path.of("top"));
  }

  private MerkleTreeBuilder.Result importWith(LongSupplier clock) throws IOException {
    DigestCache cache = DigestCache.open(cacheDir, tree, DigestFunction.SHA256, clock);
    MerkleTreeBuilder.Result r = new MerkleTreeBuilder(store, 2, Progress.NONE, cache).build(tree);
    cache.save();
    return r;
  }

  private MerkleTreeBuilder.Result importWithoutCache() throws IOException {
    return new MerkleTreeBuilder(store, 2, Progress.NONE, DigestCache.none()).build(tree);
  }

  @Test
  void unchangedTree_isNotReadAgain_andGivesTheSameRoot() throws IOException {
    MerkleTreeBuilder.Result first = importWith(settled);
    assertThat(first.filesHashed()).isEqualTo(31);
    MerkleTreeBuilder.Result second = importWith(settled);
    assertThat(second.filesHashed()).isZero();
    assertThat(second.root()).isEqualTo(first.root()).isEqualTo(importWithoutCache().root());
  }

  @Test
  void sameSizeRewrite_withMtimeSetBack_isReadAgain() throws IOException {
    importWith(settled);
    Path f = tree.resolve("sub/f7");
    FileTime mtime = Files.getLastModifiedTime(f);
    Files.writeString(f, "CONTENT 7"); // same length
    Files.setLastModifiedTime(f, mtime); // hides the write from mtime, not from ctime
    MerkleTreeBuilder.Result again = importWith(settled);
    assertThat(again.filesHashed()).isEqualTo(1);
    assertThat(again.root()).isEqualTo(importWithoutCache().root());
  }

  @Test
  void fileRewrittenBetweenTheWalkAndItsHashing_isNotRememberedWithTheWalksStamp()
      throws IOException {
    Path f = tree.resolve("sub/f3");
    FileStamp walked = FileStamp.read(f); // what the walk will see
    Progress rewriteAfterWalk = new Progress() {
      @Override
      public void start(String task, long files, long bytes) {
        try { // the walk is done, no file is read yet
          FileTime mtime = Files.getLastModifiedTime(f);
          Files.writeString(f, "CONTENT 3"); // same length
          Files.setLastModifiedTime(f, mtime);
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
    };
    DigestCache cache = DigestCache.open(cacheDir, tree, DigestFunction.SHA256, settled);
    MerkleTreeBuilder.Result first =
        new MerkleTreeBuilder(store, 2, rewriteAfterWalk, cache).build(tree);
    cache.save();

    DigestCache reopened = DigestCache.open(cacheDir, tree, DigestFunction.SHA256, settled);
    MerkleTreeBuilder.Result again = importWith(settled);

    // the new bytes' digest must not be remembered under the stamp of the old ones
    assertThat(reopened.lookup(walked, f)).isNull();
    assertThat(first.root()).isEqualTo(importWithoutCache().root()); // what was read: the new bytes
    assertThat(again.filesHashed()).as("f3 is read again").isEqualTo(1);
    assertThat(again.root()).isEqualTo(first.root());
  }

  @Test
  void replacedFile_isReadAgain() throws IOException {
    importWith(settled);
    Path f = tree.resolve("top");
    Files.delete(f);
    Files.writeString(f, "new file"); // same length; perhaps the same inode
    MerkleTreeBuilder.Result again = importWith(settled);
    assertThat(again.filesHashed()).isEqualTo(1);
    assertThat(again.root()).isEqualTo(importWithoutCache().root());
  }

  @Test
  void modeChange_isInTheNewTree() throws IOException {
    MerkleTreeBuilder.Result first = importWith(settled);
    Files.setPosixFilePermissions(tree.resolve("top"), PosixFilePermissions.fromString("rwxr-xr-x"));
    MerkleTreeBuilder.Result again = importWith(settled);
    // chmod moves ctime, so the file is read again; the exec bit is in the tree either way
    assertThat(again.root()).isNotEqualTo(first.root()).isEqualTo(importWithoutCache().root());
  }

  @Test
  void filesChangedJustBeforeTheImport_areNotRemembered() throws IOException {
    // The real clock: the files were written moments ago, within the settle time, so a write
    // in the same timestamp tick could still follow unseen. They are hashed every time.
    MerkleTreeBuilder.Result first = importWith(System::currentTimeMillis);
    assertThat(first.filesHashed()).isEqualTo(31);
    assertThat(importWith(System::currentTimeMillis).filesHashed()).isEqualTo(31);
  }

  @Test
  void damagedCacheFile_isIgnored_andReplaced() throws IOException {
    MerkleTreeBuilder.Result first = importWith(settled);
    Path file = onlyCacheFile();
    byte[] bytes = Files.readAllBytes(file);
    bytes[bytes.length / 2] ^= 1; // one bit of one entry
    Files.write(file, bytes);
    MerkleTreeBuilder.Result again = importWith(settled);
    assertThat(again.filesHashed()).isEqualTo(31);
    assertThat(again.root()).isEqualTo(first.root());
    assertThat(importWith(settled).filesHashed()).isZero();
  }

  @Test
  void truncatedCacheFile_isIgnored() throws IOException {
    importWith(settled);
    Path file = onlyCacheFile();
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, java.util.Arrays.copyOf(bytes, bytes.length - 20));
    assertThat(importWith(settled).filesHashed()).isEqualTo(31);
  }

  @Test
  void refresh_hashesEverything_andReplacesWhatWasRemembered() throws IOException {
    importWith(settled);
    DigestCache refresh = DigestCache.open(cacheDir, tree, DigestFunction.SHA256, settled, false);
    var r = new MerkleTreeBuilder(store, 2, Progress.NONE, refresh).build(tree);
    refresh.save();
    assertThat(r.filesHashed()).isEqualTo(31);
    assertThat(importWith(settled).filesHashed()).isZero();
  }

  @Test
  void cacheFileOthersMayWrite_isIgnored() throws IOException {
    importWith(settled);
    Files.setPosixFilePermissions(onlyCacheFile(), PosixFilePermissions.fromString("rw-rw-rw-"));
    assertThat(importWith(settled).filesHashed()).isEqualTo(31);
    Files.setPosixFilePermissions(cacheDir, PosixFilePermissions.fromString("rwxrwxrwx"));
    DigestCache open = DigestCache.open(cacheDir, tree, DigestFunction.SHA256, settled);
    new MerkleTreeBuilder(store, 2, Progress.NONE, open).build(tree);
    assertThatThrownBy(open::save).hasMessageContaining("only it may write");
  }

  @Test
  void deletedFiles_leaveTheCache() throws IOException {
    importWith(settled);
    long before = Files.size(onlyCacheFile());
    for (int i = 0; i < 10; i++) {
      Files.delete(tree.resolve("sub/f" + i));
    }
    assertThat(importWith(settled).filesHashed()).isZero();
    assertThat(Files.size(onlyCacheFile())).isEqualTo(before - 10 * 72);
  }

  @Test
  void otherDigestFunction_doesNotShareTheCache() throws IOException {
    importWith(settled);
    DigestCache blake3 = DigestCache.open(cacheDir, tree, DigestFunction.BLAKE3, settled);
    InMemoryBlobStore blakeStore = new InMemoryBlobStore(DigestFunction.BLAKE3);
    var r = new MerkleTreeBuilder(blakeStore, 2, Progress.NONE, blake3).build(tree);
    assertThat(r.filesHashed()).isEqualTo(31);
  }

  @Test
  void atMostMaxTreesCacheFilesAreKept() throws IOException {
    for (int i = 0; i < DigestCache.MAX_TREES + 3; i++) {
      Path root = Files.createDirectories(dir.resolve("many/" + i));
      Files.writeString(root.resolve("f"), "x" + i);
      DigestCache cache = DigestCache.open(cacheDir, root, DigestFunction.SHA256, settled);
      new MerkleTreeBuilder(store, 1, Progress.NONE, cache).build(root);
      cache.save();
    }
    try (Stream<Path> files = Files.list(cacheDir)) {
      assertThat(files.filter(p -> p.toString().endsWith(".digests")).count())
          .isEqualTo(DigestCache.MAX_TREES);
    }
  }

  private Path onlyCacheFile() throws IOException {
    try (Stream<Path> files = Files.list(cacheDir)) {
      List<Path> all = files.toList();
      assertThat(all).hasSize(1);
      return all.getFirst();
    }
  }
}
