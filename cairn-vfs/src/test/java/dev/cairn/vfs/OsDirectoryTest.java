package dev.cairn.vfs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.tree.SpecialFileException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;

class OsDirectoryTest extends DirectoryContractTest {
  private Path root;

  @Override
  protected Directory newDirectory(BlobStore store, Path tmp) throws IOException {
    root = Files.createDirectories(tmp.resolve("tree"));
    return OsDirectory.open(root, store);
  }

  private String mode(String path) throws IOException {
    return PosixFilePermissions.toString(
        Files.getPosixFilePermissions(root.resolve(path), LinkOption.NOFOLLOW_LINKS));
  }

  @Test
  void open_requiresAnExistingDirectory() throws IOException {
    assertThatThrownBy(() -> OsDirectory.open(tmp.resolve("absent"), store))
        .isInstanceOf(NoSuchFileException.class);
    Path file = Files.writeString(tmp.resolve("file"), "x");
    assertThatThrownBy(() -> OsDirectory.open(file, store)).isInstanceOf(NotDirectoryException.class);
  }

  @Test
  void filesOnDisk_are0644_or0755_andReplacementKeepsTheBit() throws IOException {
    write("f", "x");
    assertThat(mode("f")).isEqualTo("rw-r--r--");
    dir.setExecutable(p("f"), true);
    assertThat(mode("f")).isEqualTo("rwxr-xr-x");
    write("f", "y");
    assertThat(mode("f")).isEqualTo("rwxr-xr-x");
    dir.copy(p("f"), p("g"));
    assertThat(mode("g")).isEqualTo("rwxr-xr-x");
  }

  @Test
  void symlinkToOutside_isNeverFollowed_byWriteCopyOrRemove() throws IOException {
    Path outside = Files.createDirectories(tmp.resolve("outside"));
    Files.writeString(outside.resolve("secret"), "secret");
    dir.symlink(outside.toString(), p("out"));
    assertThatThrownBy(() -> write("out/secret", "pwned")).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> dir.read(p("out/secret"))).isInstanceOf(NotDirectoryException.class);
    assertThatThrownBy(() -> dir.mkdir(p("out/x"), true)).isInstanceOf(NotDirectoryException.class);
    dir.copy(p("out"), p("copy"));
    assertThat(Files.isSymbolicLink(root.resolve("copy"))).isTrue();
    dir.remove(p("out"), true);
    dir.remove(p("copy"), true);
    assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("secret");
  }

  @Test
  void failingWrite_leavesTheOldFileAndNoTemporary() throws IOException {
    write("f", "old");
    InputStream broken = new InputStream() {
      private int left = 3;

      @Override
      public int read() throws IOException {
        if (left-- > 0) {
          return 'n';
        }
        throw new IOException("source failed");
      }
    };
    assertThatThrownBy(() -> dir.write(p("f"), broken)).hasMessageContaining("source failed");
    assertThat(read("f")).isEqualTo("old");
    assertThat(names("")).containsExactly("f");
  }

  @Test
  void mergingIntoAnAncestorOfTheSource_readsTheSourceAsItWas() throws IOException {
    Directory model = CasDirectory.empty(store);
    for (Directory d : java.util.List.of(dir, model)) {
      d.mkdir(p("a/a/a"), true);
      d.write(p("a/a/a/x"), new java.io.ByteArrayInputStream(new byte[] {1}));
      d.write(p("a/y"), new java.io.ByteArrayInputStream(new byte[] {2}));
      d.copy(p("a/a"), TreePath.ROOT);
    }
    assertThat(names("a")).containsExactly("a", "y");
    assertThat(names("a/a")).containsExactly("a", "x");
    assertThat(dir.snapshot()).isEqualTo(model.snapshot());
  }

  @Test
  void specialFile_isAnErrorNamingItsPath() throws Exception {
    Path fifo = root.resolve("pipe");
    Process mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start();
    assertThat(mkfifo.waitFor()).isZero();
    assertThatThrownBy(() -> dir.stat(p("pipe"))).isInstanceOf(SpecialFileException.class)
        .hasMessageContaining(fifo.toString()).hasMessageContaining("fifo");
    assertThatThrownBy(() -> dir.list(TreePath.ROOT)).isInstanceOf(SpecialFileException.class);
    assertThatThrownBy(() -> dir.snapshot()).isInstanceOf(SpecialFileException.class)
        .hasMessageContaining("pipe");
    assertThatThrownBy(() -> dir.copy(p("pipe"), p("p2")))
        .isInstanceOf(SpecialFileException.class);
    dir.remove(p("pipe"), false);
    assertThat(dir.list(TreePath.ROOT)).isEmpty();
  }
}
