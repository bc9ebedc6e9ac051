package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ListingCommandTest {

  private static final String EMPTY = DigestFunction.SHA256.emptyDigest().toString();

  @TempDir Path tmp;
  private CliRunner cairn;
  private String root;

  @BeforeEach
  void setUp() throws IOException {
    cairn = new CliRunner(tmp.resolve("store"));
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("dir/empty"));
    Files.writeString(src.resolve("b.txt"), "bee\n");
    Files.writeString(src.resolve("dir/tool"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(src.resolve("dir/tool"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("a-link"), Path.of("dir/tool"));
    Files.writeString(src.resolve("é"), "");
    root = cairn.ok("import", src.toString()).line();
  }

  private static String digestOf(String content) {
    return DigestFunction.SHA256.digestOf(content.getBytes(StandardCharsets.UTF_8)).toString();
  }

  private static String line(String mode, long size, String digest, String name) {
    return String.format("%s %12d %s %s", mode, size, digest, name);
  }

  @Test
  void ls_root_listsEveryKindInNameOrder() {
    List<String> lines = cairn.ok("ls", root).lines();

    assertThat(lines).hasSize(4);
    assertThat(lines.get(0)).isEqualTo(line("lrwxrwxrwx", 8, "-", "a-link -> dir/tool"));
    assertThat(lines.get(1)).isEqualTo(line("-rw-r--r--", 4, digestOf("bee\n"), "b.txt"));
    assertThat(lines.get(2)).matches("drwxr-xr-x +\\d+ [0-9a-f]{64}/\\d+ dir");
    assertThat(lines.get(3)).isEqualTo(line("-rw-r--r--", 0, EMPTY, "é"));
  }

  @Test
  void ls_directoryLine_showsTheDirectoryMessageSizeAndDigest() {
    String dirLine = cairn.ok("ls", root).lines().get(2);
    String[] columns = dirLine.trim().split(" +");
    String dirDigest = columns[2];

    assertThat(dirDigest).endsWith("/" + columns[1]);
    assertThat(cairn.ok("ls", dirDigest).lines()).isEqualTo(cairn.ok("ls", root + "/dir").lines());
  }

  @Test
  void ls_subdirectory_listsItsEntries() {
    assertThat(cairn.ok("ls", root + "/dir").lines()).containsExactly(
        line("drwxr-xr-x", 0, EMPTY, "empty"),
        line("-rwxr-xr-x", 10, digestOf("#!/bin/sh\n"), "tool"));
  }

  @Test
  void ls_filePath_printsThatOneEntryWithItsPath() {
    assertThat(cairn.ok("ls", root + "/dir/tool").lines())
        .containsExactly(line("-rwxr-xr-x", 10, digestOf("#!/bin/sh\n"), "dir/tool"));
  }

  @Test
  void ls_symlinkPath_printsItWithoutFollowingIt() {
    assertThat(cairn.ok("ls", root + "/a-link").lines())
        .containsExactly(line("lrwxrwxrwx", 8, "-", "a-link -> dir/tool"));
  }

  @Test
  void ls_emptyDirectory_printsNothing() {
    assertThat(cairn.ok("ls", root + "/dir/empty").stdout()).isEmpty();
  }

  @Test
  void ls_missingPath_exits1NamingIt() {
    CliRunner.Result r = cairn.run("ls", root + "/dir/nope");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).startsWith("cairn: dir/nope: ").contains(root);
  }

  @Test
  void ls_throughAFile_exits1() {
    CliRunner.Result r = cairn.run("ls", root + "/b.txt/x");

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).startsWith("cairn: b.txt").contains("not a directory");
  }

  @Test
  void ls_badPath_isAUsageError() {
    CliRunner.Result r = cairn.run("ls", root + "/../etc");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("invalid tree path").contains("..");
  }

  @Test
  void ls_badDigest_isAUsageError() {
    CliRunner.Result r = cairn.run("ls", "abc/12/x");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("abc");
  }

  @Test
  void ls_unknownRoot_exits1() {
    String digest = "56".repeat(32) + "/10";

    CliRunner.Result r = cairn.run("ls", digest);

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).isEqualTo("cairn: blob " + digest + " not found\n");
  }

  @Test
  void tree_listsEverythingWithFullPaths_directoryBeforeItsContents() {
    List<String> lines = cairn.ok("tree", root).lines();

    assertThat(lines).hasSize(6);
    assertThat(lines.get(0)).isEqualTo(line("lrwxrwxrwx", 8, "-", "a-link -> dir/tool"));
    assertThat(lines.get(1)).isEqualTo(line("-rw-r--r--", 4, digestOf("bee\n"), "b.txt"));
    assertThat(lines.get(2)).matches("drwxr-xr-x +\\d+ [0-9a-f]{64}/\\d+ dir");
    assertThat(lines.get(3)).isEqualTo(line("drwxr-xr-x", 0, EMPTY, "dir/empty"));
    assertThat(lines.get(4)).isEqualTo(line("-rwxr-xr-x", 10, digestOf("#!/bin/sh\n"), "dir/tool"));
    assertThat(lines.get(5)).isEqualTo(line("-rw-r--r--", 0, EMPTY, "é"));
  }

  @Test
  void tree_ofASubdirectory_keepsPathsRelativeToTheRoot() {
    assertThat(cairn.ok("tree", root + "/dir").lines()).containsExactly(
        line("drwxr-xr-x", 0, EMPTY, "dir/empty"),
        line("-rwxr-xr-x", 10, digestOf("#!/bin/sh\n"), "dir/tool"));
  }

  @Test
  void tree_escapesControlCharactersInNames() throws IOException {
    Path src = Files.createDirectories(tmp.resolve("odd"));
    Files.writeString(src.resolve("line\nbreak"), "");
    String odd = cairn.ok("import", src.toString()).line();

    assertThat(cairn.ok("tree", odd).lines()).containsExactly(line("-rw-r--r--", 0, EMPTY, "line\\x0abreak"));
  }
}
