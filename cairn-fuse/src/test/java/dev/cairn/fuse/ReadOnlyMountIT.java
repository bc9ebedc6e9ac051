package dev.cairn.fuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.TreeExporter;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.cas.CasFileSystem;
import dev.cairn.fuse.kernel.Mounter;
import dev.cairn.fuse.kernel.Native;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real read-only mounts on /dev/fuse: the mounted tree must be the exported tree, byte for byte,
 * and behave like a read-only POSIX file system.
 */
class ReadOnlyMountIT {

  @TempDir Path temp;
  private Path source;
  private DiskBlobStore store;
  private Digest root;
  private final List<FuseMount> mounts = new ArrayList<>();
  private CasFileSystem lastFs;
  private CasFileSystem.Reads reads = CasFileSystem.Reads.PASSTHROUGH; // as a test sets it

  @BeforeEach
  void importTree() throws IOException {
    source = Files.createDirectories(temp.resolve("source"));
    SampleTree.write(source);
    store = DiskBlobStore.open(DiskStoreConfig.at(temp.resolve("store")));
    root = new MerkleTreeBuilder(store).build(source).root();
  }

  @AfterEach
  void unmountAll() throws IOException {
    for (FuseMount m : mounts) {
      m.close();
    }
    store.close();
  }

  private Path mount(BlobSource blobs, Digest digest, Mounter.Method method) throws IOException {
    Path mp = Files.createDirectories(temp.resolve("mnt-" + mounts.size()));
    CasFileSystem fs = new CasFileSystem(blobs, digest, Native.getuid(), Native.getgid(),
        1_700_000_000L, reads);
    lastFs = fs;
    FuseMount m = FuseMount.mount(mp, fs, new FuseMount.Config(2,
        new Mounter.Options(true, false, "cairn-test", method)));
    mounts.add(m);
    return mp;
  }

  private Path mount() throws IOException {
    return mount(new BlobSource(store, Optional.empty()), root, Mounter.Method.AUTO);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void mountedTree_equalsExportOfTheSameDigest(CasFileSystem.Reads mode) throws IOException {
    reads = mode;
    Path mp = mount();
    Path exported = temp.resolve("exported");
    new TreeExporter(store).export(root, exported);
    SampleTree.assertSameTree(exported, mp);
    SampleTree.assertSameTree(source, mp);
  }

  @Test
  void stat_reportsSizeModeOwnerAndSharedInodeForIdenticalFiles() throws IOException {
    Path mp = mount();
    PosixFileAttributes hello = Files.readAttributes(mp.resolve("hello.txt"), PosixFileAttributes.class);
    assertThat(hello.size()).isEqualTo(13);
    assertThat(hello.isRegularFile()).isTrue();
    assertThat(Files.getAttribute(mp.resolve("hello.txt"), "unix:mode")).isEqualTo(0100644);
    assertThat(Files.getAttribute(mp.resolve("bin/run.sh"), "unix:mode")).isEqualTo(0100755);
    assertThat(Files.getAttribute(mp.resolve("bin"), "unix:mode")).isEqualTo(040755);
    assertThat(Files.getAttribute(mp.resolve("hello.txt"), "unix:uid")).isEqualTo(Native.getuid());
    assertThat(Files.getAttribute(mp.resolve("hello.txt"), "unix:nlink")).isEqualTo(1);
    assertThat(hello.lastModifiedTime().toMillis()).isEqualTo(1_700_000_000_000L);
    // identical content is one inode, so the kernel caches it once
    assertThat(Files.getAttribute(mp.resolve("same-as-hello.txt"), "unix:ino"))
        .isEqualTo(Files.getAttribute(mp.resolve("hello.txt"), "unix:ino"));
    assertThat(Files.getAttribute(mp.resolve("bin"), "unix:ino"))
        .isNotEqualTo(Files.getAttribute(mp.resolve("a"), "unix:ino"));
    assertThat(Files.readSymbolicLink(mp.resolve("link-to-hello"))).isEqualTo(Path.of("hello.txt"));
    assertThat(Files.size(mp.resolve("link-to-hello"))).isEqualTo(13); // followed
    assertThat(Files.size(mp.resolve("big.bin"))).isEqualTo(5 * 1024 * 1024 + 123);
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void readdir_returnsEveryEntryOfALargeDirectoryAcrossManyRequests(CasFileSystem.Reads mode) throws IOException {
    reads = mode;
    Path mp = mount();
    List<String> names;
    try (Stream<Path> list = Files.list(mp.resolve("many"))) {
      names = list.map(p -> p.getFileName().toString()).sorted().toList();
    }
    assertThat(names).hasSize(SampleTree.MANY);
    assertThat(names.getFirst()).isEqualTo("file-with-a-longish-name-00000.txt");
    assertThat(names.getLast()).isEqualTo("file-with-a-longish-name-01499.txt");
    // ls -a sees . and .., and offsets survive a second listing from the kernel's cache
    Process ls = new ProcessBuilder("ls", "-a", mp.resolve("many").toString()).start();
    List<String> lsNames = new String(ls.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
        .lines().toList();
    assertThat(lsNames).hasSize(SampleTree.MANY + 2).contains(".", "..");
    try (Stream<Path> list = Files.list(mp.resolve("empty-dir"))) {
      assertThat(list).isEmpty();
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void writes_failWithEROFS_andMissingNamesWithENOENT(CasFileSystem.Reads mode) throws IOException {
    reads = mode;
    Path mp = mount();
    assertThatThrownBy(() -> Files.writeString(mp.resolve("hello.txt"), "x"))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.createFile(mp.resolve("new")))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.delete(mp.resolve("hello.txt")))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.createDirectory(mp.resolve("d")))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("Read-only file system");
    assertThatThrownBy(() -> Files.readAllBytes(mp.resolve("no-such-file")))
        .isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> Files.readAllBytes(mp.resolve("a/b/none/x")))
        .isInstanceOf(NoSuchFileException.class);
  }

  @Test
  void missingNames_areCachedByTheKernel_soProbingAgainDoesNotReachTheDaemon() throws IOException {
    Path mp = mount();
    FuseMount m = mounts.getLast();
    assertThat(Files.exists(mp.resolve("a/no-such-header.h"))).isFalse(); // LOOKUP of a, then a miss
    long afterFirst = m.session().requestCount(); // counted before each reply is sent

    for (int i = 0; i < 20; i++) {
      assertThat(Files.exists(mp.resolve("a/no-such-header.h"))).isFalse();
      assertThatThrownBy(() -> Files.readAllBytes(mp.resolve("a/no-such-header.h")))
          .isInstanceOf(NoSuchFileException.class);
    }

    assertThat(m.session().requestCount()).isEqualTo(afterFirst);
    // a name that exists is still found next to the cached miss
    assertThat(Files.exists(mp.resolve("a/b/c/deep.txt"))).isTrue();
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void mmap_seesTheFileBytes(CasFileSystem.Reads mode) throws IOException {
    reads = mode;
    Path mp = mount();
    byte[] expected = Files.readAllBytes(source.resolve("big.bin"));
    // mapped through an arena, so the mapping is gone (and the mount not busy) after the test
    try (FileChannel ch = FileChannel.open(mp.resolve("big.bin"), StandardOpenOption.READ);
        Arena arena = Arena.ofConfined()) {
      MemorySegment map = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), arena);
      assertThat(map.toArray(ValueLayout.JAVA_BYTE)).isEqualTo(expected);
    }
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void script_runsFromTheMount(CasFileSystem.Reads mode) throws Exception {
    reads = mode;
    Path mp = mount();
    Process p = new ProcessBuilder(mp.resolve("bin/run.sh").toString(), "arg").start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    assertThat(p.waitFor()).isZero();
    assertThat(out).isEqualTo("ran from " + mp.resolve("bin") + " with arg");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void parallelReaders_allSeeTheRightBytes(CasFileSystem.Reads mode) throws Exception {
    reads = mode;
    Path mp = mount();
    List<Path> files;
    try (Stream<Path> list = Files.list(source.resolve("many"))) {
      files = list.toList();
    }
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try {
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < 8; t++) {
        int offset = t;
        results.add(pool.submit(() -> {
          int checked = 0;
          for (int i = offset; i < files.size(); i += 3) {
            Path f = files.get(i);
            assertThat(Files.readAllBytes(mp.resolve("many").resolve(f.getFileName().toString())))
                .isEqualTo(Files.readAllBytes(f));
            checked++;
          }
          byte[] big = Files.readAllBytes(mp.resolve("big.bin"));
          assertThat(SampleTree.sha256(big))
              .isEqualTo(SampleTree.sha256(Files.readAllBytes(source.resolve("big.bin"))));
          return checked;
        }));
      }
      for (Future<Integer> f : results) {
        assertThat(f.get()).isPositive();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void xattrs_giveTheDigestSoToolsNeedNotHash() throws IOException {
    Path mp = mount();
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(mp.resolve("hello.txt"), UserDefinedFileAttributeView.class);
    assertThat(view.list()).contains("cairn.digest", "checksum.sha256");
    ByteBuffer buf = ByteBuffer.allocate(200);
    view.read("cairn.digest", buf);
    Digest expected = DigestFunction.SHA256.digestOf("hello, world\n".getBytes(StandardCharsets.UTF_8));
    assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII))
        .isEqualTo(expected.hash() + "/" + expected.sizeBytes());
    buf.clear();
    view.read("checksum.sha256", buf);
    assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII))
        .isEqualTo(expected.hash());
    UserDefinedFileAttributeView rootView =
        Files.getFileAttributeView(mp, UserDefinedFileAttributeView.class);
    buf.clear();
    rootView.read("cairn.digest", buf);
    assertThat(new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII))
        .isEqualTo(root.hash() + "/" + root.sizeBytes());
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.EnumSource(CasFileSystem.Reads.class)
  void remoteBlobs_areFetchedOnFirstUse_andACorruptBlobIsEIO(CasFileSystem.Reads mode)
      throws IOException {
    reads = mode;
    InMemoryBlobStore remote = new InMemoryBlobStore();
    Digest remoteRoot = new MerkleTreeBuilder(remote).build(source).root();
    Digest hello = DigestFunction.SHA256.digestOf("hello, world\n".getBytes(StandardCharsets.UTF_8));
    Digest deep = DigestFunction.SHA256.digestOf("deep\n".getBytes(StandardCharsets.UTF_8));
    remote.corrupt(deep, "DEEP\n".getBytes(StandardCharsets.UTF_8));
    DiskBlobStore empty = DiskBlobStore.open(DiskStoreConfig.at(temp.resolve("empty-store")));
    try {
      BlobSource blobs = new BlobSource(empty, Optional.of(remote));
      Path mp = mount(blobs, remoteRoot, Mounter.Method.AUTO);
      assertThat(empty.contains(hello)).isFalse();
      assertThat(SampleTree.text(mp.resolve("hello.txt"))).isEqualTo("hello, world\n");
      assertThat(empty.contains(hello)).isTrue();
      assertThatThrownBy(() -> Files.readAllBytes(mp.resolve("a/b/c/deep.txt")))
          .isInstanceOf(IOException.class).hasMessageContaining("Input/output error");
      assertThat(empty.contains(deep)).isFalse();
      assertThat(SampleTree.text(mp.resolve("a/b/ünïcødé 名前.txt"))).isEqualTo("names are UTF-8\n");
    } finally {
      for (FuseMount m : mounts) {
        m.close();
      }
      mounts.clear();
      empty.close();
    }
  }

  @Test
  void forgottenNodes_areReleased_soMemoryFollowsTheKernelCache() throws Exception {
    Path mp = mount();
    try (Stream<Path> list = Files.list(mp.resolve("many"))) {
      for (Path p : list.toList()) {
        Files.readAttributes(p, PosixFileAttributes.class);
      }
    }
    assertThat(lastFs.liveNodes()).isGreaterThan(SampleTree.MANY);
    // ask the kernel to drop unused dentries and inodes: it sends FORGET for each node
    Files.writeString(Path.of("/proc/sys/vm/drop_caches"), "2");
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (lastFs.liveNodes() > 50 && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(lastFs.liveNodes()).isLessThan(50);
    // and the names still resolve afterwards
    assertThat(SampleTree.text(mp.resolve("many/file-with-a-longish-name-00007.txt"))).isEqualTo("file 7\n");
  }

  @Test
  void fusermount3_mountsWithFdPassing() throws IOException {
    Path mp = mount(new BlobSource(store, Optional.empty()), root, Mounter.Method.FUSERMOUNT);
    assertThat(Mounter.isMounted(mp)).isTrue();
    assertThat(SampleTree.text(mp.resolve("a/b/c/deep.txt"))).isEqualTo("deep\n");
    mounts.removeLast().close();
    assertThat(Mounter.isMounted(mp)).isFalse();
  }

  @Test
  void unmount_endsTheSessionAndFreesTheMountPoint() throws IOException {
    Path mp = mount();
    assertThat(Mounter.isMounted(mp)).isTrue();
    FuseMount m = mounts.removeLast();
    m.close();
    assertThat(Mounter.isMounted(mp)).isFalse();
    assertThat(m.session().failure()).isNull();
    try (Stream<Path> list = Files.list(mp)) {
      assertThat(list).isEmpty();
    }
  }
}
