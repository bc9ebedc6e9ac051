package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImportExportCommandTest {

  @TempDir Path tmp;
  private CliRunner cairn;
  private Path src;

  @BeforeEach
  void setUp() throws IOException {
    cairn = new CliRunner(tmp.resolve("store"));
    src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("bin"));
    Files.createDirectories(src.resolve("empty/nested-empty"));
    Files.writeString(src.resolve("README"), "read me\n");
    Files.writeString(src.resolve("bin/run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(src.resolve("bin/run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("bin/link"), Path.of("../README"));
    Files.createSymbolicLink(src.resolve("dangling"), Path.of("does/not/exist"));
    Files.writeString(src.resolve("ünïcødé 😀.txt"), "unicode\n");
    Files.write(src.resolve("zero"), new byte[0]);
  }

  @Test
  void importExportImport_givesTheSameRoot() {
    String root = cairn.ok("import", src.toString()).line();
    Path out = tmp.resolve("out");

    CliRunner.Result export = cairn.ok("export", root, out.toString());

    assertThat(export.stdout()).isEmpty();
    assertThat(cairn.ok("import", out.toString()).line()).isEqualTo(root);
  }

  @Test
  void export_keepsExecBitsSymlinksAndEmptyDirectories() throws IOException {
    String root = cairn.ok("import", src.toString()).line();
    Path out = tmp.resolve("out");

    cairn.ok("export", root, out.toString());

    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("bin/run.sh"))))
        .isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(out.resolve("README"))))
        .isEqualTo("rw-r--r--");
    assertThat(Files.readSymbolicLink(out.resolve("bin/link"))).isEqualTo(Path.of("../README"));
    assertThat(Files.readSymbolicLink(out.resolve("dangling"))).isEqualTo(Path.of("does/not/exist"));
    assertThat(out.resolve("empty/nested-empty")).isEmptyDirectory();
    assertThat(out.resolve("zero")).isEmptyFile();
    assertThat(out.resolve("ünïcødé 😀.txt")).hasContent("unicode");
  }

  @Test
  void import_json_hasEveryFieldWithTheRightTypes() {
    String root = cairn.ok("import", src.toString()).line();

    String json = cairn.ok("import", "--json", src.toString()).line();

    Pattern shape = Pattern.compile(
        "\\{\"root\": \"([0-9a-f]{64}/\\d+)\", \"files\": (\\d+), \"directories\": (\\d+),"
            + " \"symlinks\": (\\d+), \"bytes\": (\\d+), \"blobsStored\": (\\d+),"
            + " \"bytesStored\": (\\d+), \"filesHashed\": (\\d+), \"seconds\": (\\d+\\.\\d{3})}");
    Matcher m = shape.matcher(json);
    assertThat(m.matches()).as(json).isTrue();
    assertThat(m.group(1)).isEqualTo(root);
    assertThat(m.group(2)).isEqualTo("4"); // README, run.sh, unicode, zero
    assertThat(m.group(3)).isEqualTo("4"); // root, bin, empty, empty/nested-empty
    assertThat(m.group(4)).isEqualTo("2");
    assertThat(Long.parseLong(m.group(5))).isEqualTo(8 + 18 + 8);
    assertThat(m.group(6)).isEqualTo("0"); // everything was stored by the first import
    assertThat(m.group(7)).isEqualTo("0");
    assertThat(m.group(8)).isEqualTo("4"); // written just now: too fresh to be remembered
  }

  @Test
  void import_readsOnlyFilesChangedSinceTheLastImport() throws Exception {
    Thread.sleep(2_100); // the digest cache trusts only files whose ctime has settled for 2 s
    String first = cairn.ok("import", "--json", src.toString()).line();
    assertThat(first).contains("\"filesHashed\": 4,");

    String again = cairn.ok("import", "--json", src.toString()).line();
    assertThat(again).contains("\"filesHashed\": 0,");
    String root = cairn.ok("import", src.toString()).line();
    assertThat(first).startsWith("{\"root\": \"" + root + "\"");

    assertThat(cairn.ok("import", "--json", "--rehash", src.toString()).line())
        .contains("\"filesHashed\": 4,");
    Files.writeString(src.resolve("README"), "READ ME\n"); // same size
    String changed = cairn.ok("import", "--json", src.toString()).line();
    assertThat(changed).contains("\"filesHashed\": 1,").doesNotContain(root);
    assertThat(cairn.ok("import", "--rehash", src.toString()).line())
        .isEqualTo(cairn.ok("import", src.toString()).line());
    assertThat(tmp.resolve("store/digests")).isDirectoryContaining(p -> p.toString().endsWith(".digests"));
  }

  @Test
  void import_firstTime_countsWhatItStored() {
    String json = cairn.ok("import", "--json", src.toString()).line();

    assertThat(json).contains("\"blobsStored\": ").doesNotContain("\"blobsStored\": 0,");
  }

  @Test
  void import_missingDirectory_exits1NamingIt() {
    Path missing = tmp.resolve("nope");

    CliRunner.Result r = cairn.run("import", missing.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).startsWith("cairn: " + missing + ": ");
    assertThat(r.stderr().lines()).hasSize(1);
  }

  @Test
  void import_aFile_exits1() throws IOException {
    Path file = Files.writeString(tmp.resolve("file"), "x");

    CliRunner.Result r = cairn.run("import", file.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).isEqualTo("cairn: " + file + ": not a directory\n");
  }

  @Test
  void export_intoANonEmptyDirectory_exits1NamingIt() throws IOException {
    String root = cairn.ok("import", src.toString()).line();

    CliRunner.Result r = cairn.run("export", root, src.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).isEqualTo("cairn: " + src + ": directory not empty\n");
  }

  @Test
  void export_unknownRoot_exits1NamingTheDigest() {
    String digest = "34".repeat(32) + "/80";

    CliRunner.Result r = cairn.run("export", digest, tmp.resolve("out").toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).isEqualTo("cairn: blob " + digest + " not found\n");
  }

  @Test
  void export_badDigest_isAUsageError() {
    CliRunner.Result r = cairn.run("export", "not-a-digest", tmp.resolve("out").toString());

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("not-a-digest");
  }

  @Test
  void export_aFileDigest_exits1SayingItIsNotATree() throws IOException {
    Path f = Files.writeString(tmp.resolve("not-a-tree"), "just bytes, not a Directory message");
    String digest = cairn.ok("put", f.toString()).line();

    CliRunner.Result r = cairn.run("export", digest, tmp.resolve("out").toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).startsWith("cairn: ").contains(digest);
    assertThat(r.stderr().lines()).hasSize(1);
  }
}
