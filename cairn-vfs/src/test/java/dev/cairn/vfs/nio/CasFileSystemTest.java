package dev.cairn.vfs.nio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleTreeBuilder;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystem;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ordinary {@code java.nio.file} code run on a CAS tree imported from real files must see what it
 * sees on the real files, and edits through a writable file system must snapshot to the digest
 * that importing the same edits made on real files gives.
 */
class CasFileSystemTest {
  @TempDir Path tmp;
  private InMemoryBlobStore store;
  private Path real;
  private Digest root;
  private CasFileSystem fs;

  /** a.txt, tool.sh (executable), link -> dir/b.txt, dir/{b.txt,x.java,y.java,empty/,sub/c.bin}. */
  private static void makeTree(Path r) throws IOException {
    Files.createDirectories(r.resolve("dir/sub"));
    Files.createDirectories(r.resolve("dir/empty"));
    Files.writeString(r.resolve("a.txt"), "hello\n");
    Files.writeString(r.resolve("tool.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(r.resolve("tool.sh"),
        PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.writeString(r.resolve("dir/b.txt"), "bee");
    Files.writeString(r.resolve("dir/x.java"), "class X {}");
    Files.writeString(r.resolve("dir/y.java"), "class Y {}");
    byte[] bytes = new byte[100_000];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 31);
    }
    Files.write(r.resolve("dir/sub/c.bin"), bytes);
    Files.createSymbolicLink(r.resolve("link"), Path.of("dir/b.txt"));
  }

  @BeforeEach
  void importTree() throws IOException {
    store = new InMemoryBlobStore();
    real = tmp.resolve("real");
    makeTree(real);
    root = new MerkleTreeBuilder(store).build(real).root();
    fs = CasFileSystems.readOnly(store, root);
  }

  @AfterEach
  void closeIt() throws IOException {
    fs.close();
  }

  private static List<String> walk(Path top) throws IOException {
    try (Stream<Path> s = Files.walk(top)) {
      return s.map(p -> top.relativize(p).toString()).sorted().toList();
    }
  }

  @Test
  void walk_listsTheSameRelativePathsAsTheRealTree() throws IOException {
    assertThat(walk(fs.getPath("/"))).isEqualTo(walk(real)).contains("dir/empty", "link");
  }

  @Test
  void readStringAndReadAllBytes_equalTheRealFiles() throws IOException {
    for (String rel : walk(real)) {
      Path r = real.resolve(rel);
      if (Files.isRegularFile(r, LinkOption.NOFOLLOW_LINKS)) {
        Path c = fs.getPath(rel);
        assertThat(Files.readAllBytes(c)).as(rel).isEqualTo(Files.readAllBytes(r));
        assertThat(Files.size(c)).as(rel).isEqualTo(Files.size(r));
      }
    }
    assertThat(Files.readString(fs.getPath("/a.txt"))).isEqualTo("hello\n");
    try (var lines = Files.lines(fs.getPath("tool.sh"))) {
      assertThat(lines.toList()).containsExactly("#!/bin/sh", "echo hi");
    }
  }

  @Test
  void copy_outOfTheTree_writesRealFiles() throws IOException {
    Path out = Files.createDirectory(tmp.resolve("out"));
    Files.copy(fs.getPath("/dir/sub/c.bin"), out.resolve("c.bin"));
    Files.copy(fs.getPath("/a.txt"), out.resolve("a.txt"));
    assertThat(out.resolve("c.bin")).hasSameBinaryContentAs(real.resolve("dir/sub/c.bin"));
    assertThat(Files.readString(out.resolve("a.txt"))).isEqualTo("hello\n");
  }

  @Test
  void symlinks_areReportedAndReadButNeverFollowed() throws IOException {
    Path link = fs.getPath("/link");
    assertThat(Files.isSymbolicLink(link)).isTrue();
    assertThat(Files.readSymbolicLink(link).toString()).isEqualTo("dir/b.txt");
    assertThat(Files.isRegularFile(link)).isFalse();
    assertThat(Files.exists(link)).isTrue();
    assertThat(Files.readAttributes(link, BasicFileAttributes.class).isSymbolicLink()).isTrue();
    assertThatThrownBy(() -> Files.readString(link))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("symbolic link");
  }

  @Test
  void newDirectoryStream_filtersByGlob() throws IOException {
    List<String> names = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(fs.getPath("/dir"), "*.java")) {
      s.forEach(p -> names.add(p.toString()));
    }
    assertThat(names).containsExactly("/dir/x.java", "/dir/y.java");
    assertThatThrownBy(() -> Files.newDirectoryStream(fs.getPath("/a.txt")))
        .isInstanceOf(NotDirectoryException.class);
  }

  @Test
  void attributes_giveSizeKindDigestAndExecBit() throws IOException {
    BasicFileAttributes a = Files.readAttributes(fs.getPath("/a.txt"), BasicFileAttributes.class);
    assertThat(a.isRegularFile()).isTrue();
    assertThat(a.size()).isEqualTo(6);
    assertThat(a.fileKey())
        .isEqualTo(store.digestFunction().digestOf("hello\n".getBytes(StandardCharsets.UTF_8))
            .toString());
    assertThat(Files.readAttributes(fs.getPath("/"), BasicFileAttributes.class).fileKey())
        .isEqualTo(root.toString());
    assertThat(Files.getAttribute(fs.getPath("/"), "cairn:digest")).isEqualTo(root.toString());
    assertThat(Files.isDirectory(fs.getPath("/dir/empty"))).isTrue();
    assertThat(Files.getPosixFilePermissions(fs.getPath("/tool.sh")))
        .contains(PosixFilePermission.OWNER_EXECUTE);
    assertThat(Files.isExecutable(fs.getPath("/a.txt"))).isFalse();
    assertThatThrownBy(() -> Files.size(fs.getPath("/missing")))
        .isInstanceOf(NoSuchFileException.class).hasMessageContaining("missing");
  }

  @Test
  void dotDot_neverLeavesTheRoot() throws IOException {
    assertThat(fs.getPath("/../..").normalize()).isEqualTo(fs.getPath("/"));
    assertThat(fs.getPath("/../..").toRealPath()).isEqualTo(fs.getPath("/"));
    assertThat(Files.readString(fs.getPath("/../../a.txt"))).isEqualTo("hello\n");
    assertThat(Files.readString(fs.getPath("../dir/../a.txt"))).isEqualTo("hello\n");
    assertThat(fs.getPath("a/../../b").normalize().toString()).isEqualTo("../b");
  }

  @Test
  void readOnlyFileSystem_refusesWrites() {
    assertThat(fs.isReadOnly()).isTrue();
    assertThatThrownBy(() -> Files.writeString(fs.getPath("/new"), "x"))
        .isInstanceOf(ReadOnlyFileSystemException.class);
    assertThatThrownBy(() -> Files.createDirectory(fs.getPath("/d")))
        .isInstanceOf(ReadOnlyFileSystemException.class);
    assertThatThrownBy(() -> Files.delete(fs.getPath("/a.txt")))
        .isInstanceOf(ReadOnlyFileSystemException.class);
    assertThatThrownBy(() -> Files.move(fs.getPath("/a.txt"), fs.getPath("/b")))
        .isInstanceOf(ReadOnlyFileSystemException.class);
  }

  /** The same edits, through {@code Files}, on a real tree or a CAS one. */
  private static void edit(Path r) throws IOException {
    Files.writeString(r.resolve("new.txt"), "new");
    Files.writeString(r.resolve("dir/b.txt"), "changed");
    Files.writeString(r.resolve("dir/x.java"), "// more\n", StandardOpenOption.APPEND);
    Files.createDirectories(r.resolve("n/m/o"));
    Files.write(r.resolve("n/m/o/f"), new byte[] {1, 2, 3});
    Files.move(r.resolve("dir/sub"), r.resolve("n/sub"));
    Files.move(r.resolve("dir/y.java"), r.resolve("a.txt"), StandardCopyOption.REPLACE_EXISTING);
    Files.delete(r.resolve("dir/empty"));
    Files.copy(r.resolve("tool.sh"), r.resolve("n/tool2.sh"));
    Files.copy(r.resolve("link"), r.resolve("n/link2"), LinkOption.NOFOLLOW_LINKS);
    Files.createSymbolicLink(r.resolve("n/up"), r.getFileSystem().getPath("../tool.sh"));
    Files.createDirectory(r.resolve("n/empty"));
  }

  @Test
  void writableFileSystem_snapshotEqualsImportOfTheSameEditsOnRealFiles() throws IOException {
    Path expected = tmp.resolve("expected");
    makeTree(expected);
    edit(expected);
    try (CasFileSystem w = CasFileSystems.writable(store, root, tmp.resolve("scratch"))) {
      assertThat(w.snapshot()).isEqualTo(root);
      edit(w.getPath("/"));
      assertThat(walk(w.getPath("/"))).isEqualTo(walk(expected));
      assertThat(Files.readString(w.getPath("/dir/x.java"))).isEqualTo("class X {}// more\n");
      assertThat(w.snapshot()).isEqualTo(new MerkleTreeBuilder(store).build(expected).root());
    }
    assertThat(Files.readString(fs.getPath("/a.txt"))).as("the stored tree").isEqualTo("hello\n");
  }

  @Test
  void writableFileSystem_reportsTheUsualErrors() throws IOException {
    try (CasFileSystem w = CasFileSystems.writable(store, root, tmp.resolve("scratch"))) {
      assertThatThrownBy(() -> Files.copy(w.getPath("/a.txt"), w.getPath("/tool.sh")))
          .isInstanceOf(FileAlreadyExistsException.class);
      assertThatThrownBy(() -> Files.delete(w.getPath("/dir")))
          .isInstanceOf(DirectoryNotEmptyException.class);
      assertThatThrownBy(() -> Files.writeString(w.getPath("/nope/f"), "x"))
          .isInstanceOf(NoSuchFileException.class);
      assertThatThrownBy(() -> Files.createDirectory(w.getPath("/dir")))
          .isInstanceOf(FileAlreadyExistsException.class);
      assertThatThrownBy(() -> Files.delete(w.getPath("/../..")))
          .isInstanceOf(FileSystemException.class);
      assertThat(w.snapshot()).isEqualTo(root);
    }
  }

  @Test
  void uri_opensTheTreeThroughTheInstalledProvider() throws IOException {
    URI uri = URI.create("cas:" + root);
    Path a;
    try (FileSystem byUri = FileSystems.newFileSystem(uri, Map.of("store", store))) {
      a = byUri.getPath("/dir/b.txt");
      assertThat(Files.readString(a)).isEqualTo("bee");
      assertThat(a.toUri().toString()).isEqualTo("cas:" + root + "!/dir/b.txt");
      assertThat(Path.of(a.toUri())).isEqualTo(a);
      assertThat(byUri.provider()).isInstanceOf(CasFileSystemProvider.class);
    }
    assertThatThrownBy(() -> Path.of(a.toUri())).isInstanceOf(FileSystemNotFoundException.class);
  }

  @Test
  void pathSyntax_behavesAsOnUnix() {
    Path a = fs.getPath("/dir/sub/c.bin");
    assertThat(a.getParent().toString()).isEqualTo("/dir/sub");
    assertThat(a.getFileName().toString()).isEqualTo("c.bin");
    assertThat(a.getNameCount()).isEqualTo(3);
    assertThat(a.subpath(1, 3).toString()).isEqualTo("sub/c.bin");
    assertThat(a.startsWith("/dir")).isTrue();
    assertThat(a.endsWith("sub/c.bin")).isTrue();
    assertThat(fs.getPath("/dir").relativize(fs.getPath("/a.txt")).toString())
        .isEqualTo("../a.txt");
    assertThat(fs.getPath("x").toAbsolutePath().toString()).isEqualTo("/x");
    assertThat(fs.getPath("/", "dir", "b.txt").toString()).isEqualTo("/dir/b.txt");
    assertThat(fs.getPath("/").getFileName()).isNull();
    assertThatThrownBy(() -> fs.getPath("a\0b"))
        .isInstanceOf(java.nio.file.InvalidPathException.class);
  }

  @Test
  void byteChannel_seeksBackwardAndForward() throws IOException {
    byte[] expected = Files.readAllBytes(real.resolve("dir/sub/c.bin"));
    try (var ch = Files.newByteChannel(fs.getPath("/dir/sub/c.bin"))) {
      var buf = java.nio.ByteBuffer.allocate(10);
      ch.position(50_000).read(buf);
      assertThat(buf.array()).isEqualTo(java.util.Arrays.copyOfRange(expected, 50_000, 50_010));
      buf.clear();
      ch.position(5).read(buf);
      assertThat(buf.array()).isEqualTo(java.util.Arrays.copyOfRange(expected, 5, 15));
      assertThat(ch.size()).isEqualTo(expected.length);
    }
  }
}
