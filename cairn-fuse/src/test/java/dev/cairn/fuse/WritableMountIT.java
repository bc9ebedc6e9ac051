package dev.cairn.fuse;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.cas.LocalFirstBlobStore;
import dev.cairn.fuse.kernel.Mounter;
import dev.cairn.fuse.kernel.Native;
import dev.cairn.fuse.overlay.OverlayFileSystem;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import dev.cairn.vfs.CasDirectory;
import dev.cairn.vfs.OverlayDirectory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real writable (copy-on-write) mounts on /dev/fuse: POSIX edits through the kernel, real tools
 * (make, git) inside the mount, and capture equal to importing the same edits made on disk.
 */
class WritableMountIT {

  @TempDir Path temp;
  private Path source;
  private DiskBlobStore store;
  private Digest root;
  private FuseMount mount;
  private OverlayFileSystem fs;
  private OverlayDirectory overlay;
  private Path mp;
  private final List<String> accessed = new CopyOnWriteArrayList<>();

  @BeforeEach
  void mountWritable() throws IOException {
    source = Files.createDirectories(temp.resolve("source"));
    Files.writeString(source.resolve("hello.txt"), "hello, world\n");
    Files.createDirectories(source.resolve("src/empty"));
    Files.writeString(source.resolve("src/main.c"),
        "#include <stdio.h>\nint main(void) { puts(\"built\"); return 0; }\n");
    Files.writeString(source.resolve("Makefile"),
        "prog: src/main.c\n\tcc -o prog src/main.c\n");
    Files.createSymbolicLink(source.resolve("link"), Path.of("hello.txt"));
    store = DiskBlobStore.open(DiskStoreConfig.at(temp.resolve("store")));
    root = new MerkleTreeBuilder(store).build(source).root();
    BlobSource blobs = new BlobSource(store, Optional.empty());
    overlay = OverlayDirectory.over(CasDirectory.open(new LocalFirstBlobStore(blobs), root), store,
        temp.resolve("scratch"));
    fs = new OverlayFileSystem(overlay, blobs, Native.getuid(), Native.getgid(), 1_700_000_000L,
        accessed::add);
    mp = Files.createDirectories(temp.resolve("mnt"));
    mount = FuseMount.mount(mp, fs, new FuseMount.Config(2,
        new Mounter.Options(false, false, "cairn-test", Mounter.Method.AUTO)));
  }

  @AfterEach
  void unmount() throws IOException {
    try {
      mount.close();
    } finally {
      overlay.close();
      store.close();
    }
  }

  @Test
  void createWriteRenameUnlink_behaveLikePosix() throws IOException {
    Files.writeString(mp.resolve("new.txt"), "first\n");
    Files.writeString(mp.resolve("new.txt"), "second\n", StandardOpenOption.APPEND);
    assertThat(Files.readString(mp.resolve("new.txt"))).isEqualTo("first\nsecond\n");
    Files.writeString(mp.resolve("hello.txt"), "changed\n"); // truncating rewrite of a lower file
    assertThat(Files.readString(mp.resolve("hello.txt"))).isEqualTo("changed\n");
    assertThat(Files.readString(mp.resolve("link"))).isEqualTo("changed\n");

    Files.move(mp.resolve("new.txt"), mp.resolve("src/moved.txt"));
    assertThat(Files.exists(mp.resolve("new.txt"))).isFalse();
    assertThat(Files.readString(mp.resolve("src/moved.txt"))).isEqualTo("first\nsecond\n");
    Files.move(mp.resolve("src/moved.txt"), mp.resolve("hello.txt"), StandardCopyOption.REPLACE_EXISTING);
    assertThat(Files.readString(mp.resolve("hello.txt"))).isEqualTo("first\nsecond\n");

    Files.createDirectory(mp.resolve("dir"));
    Files.createSymbolicLink(mp.resolve("dir/l"), Path.of("../hello.txt"));
    assertThat(Files.readSymbolicLink(mp.resolve("dir/l"))).isEqualTo(Path.of("../hello.txt"));
    assertThatThrownBy(() -> Files.delete(mp.resolve("dir"))).isInstanceOf(DirectoryNotEmptyException.class);
    assertThatThrownBy(() -> Files.createDirectory(mp.resolve("dir"))).isInstanceOf(FileAlreadyExistsException.class);
    Files.move(mp.resolve("dir"), mp.resolve("src/dir2"));
    // the link moved with its directory and now points to src/hello.txt, which does not exist
    assertThat(Files.readSymbolicLink(mp.resolve("src/dir2/l"))).isEqualTo(Path.of("../hello.txt"));
    assertThat(Files.exists(mp.resolve("src/dir2/l"))).isFalse();
    Files.delete(mp.resolve("src/dir2/l"));
    Files.delete(mp.resolve("src/dir2"));
    assertThatThrownBy(() -> Files.delete(mp.resolve("src/dir2"))).isInstanceOf(NoSuchFileException.class);
    assertThatThrownBy(() -> Files.readString(mp.resolve("nope"))).isInstanceOf(NoSuchFileException.class);

    Path script = mp.resolve("run.sh");
    Files.writeString(script, "#!/bin/sh\necho ok\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    assertThat(Files.isExecutable(script)).isTrue();
    try (FileChannel ch = FileChannel.open(mp.resolve("hello.txt"), StandardOpenOption.WRITE)) {
      ch.truncate(5);
    }
    assertThat(Files.readString(mp.resolve("hello.txt"))).isEqualTo("first");
    // a rename out of the mount is EXDEV: not atomic across file systems
    assertThatThrownBy(() -> Files.move(mp.resolve("hello.txt"), temp.resolve("out.txt"),
        StandardCopyOption.ATOMIC_MOVE)).isInstanceOf(AtomicMoveNotSupportedException.class);
    // the lower tree in the store is untouched
    assertThat(new String(store.get(dev.cairn.core.digest.DigestFunction.SHA256
        .digestOf("hello, world\n".getBytes(StandardCharsets.UTF_8))), StandardCharsets.UTF_8))
        .isEqualTo("hello, world\n");
  }

  @Test
  void unlinkedOpenFile_staysReadableAndWritableThroughItsHandle() throws IOException {
    try (FileChannel ch = FileChannel.open(mp.resolve("temp.bin"), StandardOpenOption.CREATE_NEW,
        StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("before".getBytes(StandardCharsets.UTF_8)));
      Files.delete(mp.resolve("temp.bin"));
      assertThat(Files.exists(mp.resolve("temp.bin"))).isFalse();
      ch.write(ByteBuffer.wrap("+after".getBytes(StandardCharsets.UTF_8)));
      ch.force(true);
      assertThat(ch.size()).isEqualTo(12);
      ByteBuffer back = ByteBuffer.allocate(12);
      ch.read(back, 0);
      assertThat(new String(back.array(), StandardCharsets.UTF_8)).isEqualTo("before+after");
    }
  }

  @Test
  void capture_equalsImportingTheSameChangesMadeOnDisk() throws Exception {
    Path copy = temp.resolve("copy");
    Process cp = new ProcessBuilder("cp", "-a", source.toString(), copy.toString()).start();
    assertThat(cp.waitFor()).isZero();
    for (Path base : List.of(mp, copy)) {
      Files.writeString(base.resolve("hello.txt"), "edited\n");
      Files.createDirectories(base.resolve("new/deeper"));
      Files.writeString(base.resolve("new/deeper/file"), "x".repeat(100_000));
      Files.delete(base.resolve("link"));
      Files.createSymbolicLink(base.resolve("link2"), Path.of("new"));
      Files.move(base.resolve("src/main.c"), base.resolve("main.c"));
      Path exe = base.resolve("tool");
      Files.writeString(exe, "#!/bin/sh\n");
      Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Digest expected = new MerkleTreeBuilder(store).build(copy).root();

    UserDefinedFileAttributeView view = Files.getFileAttributeView(mp, UserDefinedFileAttributeView.class);
    ByteBuffer buf = ByteBuffer.allocate(200);
    view.read("cairn.capture", buf);
    String captured = new String(buf.array(), 0, buf.position(), StandardCharsets.US_ASCII);

    assertThat(captured).isEqualTo(expected.toString());
    assertThat(fs.capture()).isEqualTo(expected);
  }

  @Test
  void make_buildsInsideTheMount_andSeesItsOutputAsUpToDate() throws Exception {
    assertThat(run(mp, "make").output()).contains("cc -o prog src/main.c");
    assertThat(run(mp, "./prog").output()).isEqualTo("built\n");
    assertThat(run(mp, "make").output()).contains("is up to date");
    Files.writeString(mp.resolve("src/main.c"),
        "#include <stdio.h>\nint main(void) { puts(\"rebuilt\"); return 0; }\n");
    assertThat(run(mp, "make").output()).contains("cc -o prog src/main.c");
    assertThat(run(mp, "./prog").output()).isEqualTo("rebuilt\n");
  }

  @Test
  void git_commitsAndReportsStatusInsideTheMount() throws Exception {
    run(mp, "git", "init", "-q");
    run(mp, "git", "-c", "user.name=t", "-c", "user.email=t@e", "add", "-A");
    run(mp, "git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "-m", "initial");
    assertThat(run(mp, "git", "status", "--porcelain").output()).isEmpty();
    Files.writeString(mp.resolve("hello.txt"), "modified\n");
    Files.writeString(mp.resolve("untracked.txt"), "new\n");
    assertThat(run(mp, "git", "status", "--porcelain").output().lines().toList())
        .containsExactly(" M hello.txt", "?? untracked.txt");
  }

  @Test
  void accessedPaths_areReported() throws IOException {
    Files.readString(mp.resolve("src/main.c"));
    Files.readSymbolicLink(mp.resolve("link"));
    try (var list = Files.list(mp.resolve("src"))) {
      assertThat(list.count()).isEqualTo(2);
    }
    assertThat(accessed).contains("src/main.c", "link", "src");
  }

  record Result(int exit, String output) {}

  private static Result run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = p.waitFor();
    assertThat(exit).as(String.join(" ", command) + ": " + out).isZero();
    return new Result(exit, out);
  }
}
