package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EditCommandTest {

  @TempDir Path tmp;
  private CliRunner cairn;
  private Path src;
  private String root;

  @BeforeEach
  void setUp() throws IOException {
    cairn = new CliRunner(tmp.resolve("store"));
    src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("a/b"));
    Files.writeString(src.resolve("a/b/f.txt"), "f\n");
    Files.writeString(src.resolve("a/run.sh"), "#!/bin/sh\n");
    Files.setPosixFilePermissions(src.resolve("a/run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(src.resolve("sp ace"));
    Files.writeString(src.resolve("sp ace/x \"q\""), "x\n");
    Files.createSymbolicLink(src.resolve("link"), Path.of("a"));
    root = cairn.ok("import", src.toString()).line();
  }

  private Path script(String... lines) throws IOException {
    return Files.write(tmp.resolve("script.txt"), List.of(lines), StandardCharsets.UTF_8);
  }

  private static void run(Path cwd, String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).directory(cwd.toFile()).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + output).isZero();
  }

  @Test
  void script_givesTheSameDigestAsCoreutilsOnAnExportedCopy() throws Exception {
    Path localDir = Files.createDirectories(tmp.resolve("local/tools"));
    Files.writeString(localDir.resolve("t"), "t\n");
    Path localFile = Files.writeString(tmp.resolve("local/new.txt"), "new content\n");

    Path script = script(
        "# build the new layout",
        "",
        "mkdir new/deep",
        "copy a new/deep",
        "copy a/b/f.txt a/copy.txt",
        "  move \"sp ace\" a/moved   ",
        "remove a/b",
        "import " + localDir + " new",
        "write a/run.sh " + localFile,
        "symlink ../a new/ln",
        "chmod +x a/copy.txt",
        "chmod -x new/deep/a/run.sh",
        "copy \"a/moved/x \\\"q\\\"\" \"with space\"");
    CliRunner.Result edit = cairn.ok("edit", root, "--script", script.toString());

    Path out = tmp.resolve("out");
    cairn.ok("export", root, out.toString());
    run(out, "mkdir", "-p", "new/deep");
    run(out, "cp", "-a", "a", "new/deep");
    run(out, "cp", "-a", "a/b/f.txt", "a/copy.txt");
    run(out, "mv", "sp ace", "a/moved");
    run(out, "rm", "-r", "a/b");
    run(out, "cp", "-a", localDir.toString(), "new");
    run(out, "cp", localFile.toString(), "a/run.sh");
    run(out, "ln", "-s", "../a", "new/ln");
    run(out, "chmod", "+x", "a/copy.txt");
    run(out, "chmod", "-x", "new/deep/a/run.sh");
    run(out, "cp", "-a", "a/moved/x \"q\"", "with space");

    assertThat(edit.line()).isEqualTo(cairn.ok("import", out.toString()).line());
    assertThat(edit.stderr()).isEmpty();
  }

  @Test
  void failingOperation_namesItsLine_andPrintsNoDigest() throws IOException {
    Path script = script("mkdir x", "# comment", "remove does/not/exist", "mkdir y");

    CliRunner.Result r = cairn.run("edit", root, "--script", script.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).contains("line 3").contains("does/not/exist").contains("no such file");
    assertThat(cairn.ok("ls", root).lines()).as("the tree is unchanged").hasSize(3);
  }

  @Test
  void failureOfALaterLine_leavesNoResult_evenAfterEarlierLinesSucceeded() throws IOException {
    Path script = script("remove a", "move link sp\\ ace/link", "copy link x");

    CliRunner.Result r = cairn.run("edit", root, "--script", script.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stdout()).isEmpty();
    assertThat(r.stderr()).contains("line 3").contains("link: no such file");
  }

  @Test
  void usageErrors_exit2_namingTheLine_beforeAnythingRuns() throws IOException {
    List<String[]> cases = new ArrayList<>();
    cases.add(new String[] {"mkdir ok", "frobnicate x", "unknown operation 'frobnicate'"});
    cases.add(new String[] {"mkdir ok", "copy onlyone", "copy takes 2 arguments"});
    cases.add(new String[] {"mkdir ok", "mkdir ../escape", "not allowed"});
    cases.add(new String[] {"mkdir ok", "mkdir /abs", "must be relative"});
    cases.add(new String[] {"mkdir ok", "mkdir \"unterminated", "unterminated double quote"});
    cases.add(new String[] {"mkdir ok", "chmod 755 a/run.sh", "+x or -x"});
    for (String[] c : cases) {
      Path script = script(c[0], c[1]);

      CliRunner.Result r = cairn.run("edit", root, "--script", script.toString());

      assertThat(r.exitCode()).as(c[1]).isEqualTo(2);
      assertThat(r.stdout()).as(c[1]).isEmpty();
      assertThat(r.stderr()).as(c[1]).contains("line 2").contains(c[2]);
    }
  }

  @Test
  void scriptFromStdin() throws IOException {
    InputStream saved = System.in;
    try {
      System.setIn(new ByteArrayInputStream("remove a\nremove \"sp ace\"\nremove link\n".getBytes()));
      String edited = cairn.ok("edit", root, "--script", "-").line();
      Path empty = Files.createDirectories(tmp.resolve("empty"));
      assertThat(edited).isEqualTo(cairn.ok("import", empty.toString()).line());
    } finally {
      System.setIn(saved);
    }
  }

  @Test
  void help_describesOperationsAndQuoting() {
    String help = cairn.ok("edit", "--help").stdout();
    assertThat(help).contains("chmod +x|-x PATH").contains("Quote an argument").contains("All or nothing");
  }

  @Test
  void split_handlesQuotesEscapesAndComments() throws Exception {
    assertThat(EditScript.split("copy \"a b\" c\\ d \"\" x\"y z\"", 1))
        .containsExactly("copy", "a b", "c d", "", "xy z");
    assertThat(EditScript.split("   # a comment", 1)).isEmpty();
    assertThat(EditScript.split("mkdir a#b", 1)).containsExactly("mkdir", "a#b");
    assertThat(EditScript.split("\"q\\\"uote\\\\\"", 1)).containsExactly("q\"uote\\");
  }
}
