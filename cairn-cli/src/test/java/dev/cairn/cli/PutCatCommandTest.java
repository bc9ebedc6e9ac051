package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PutCatCommandTest {

  @TempDir Path tmp;
  private CliRunner cairn;

  @BeforeEach
  void setUp() {
    cairn = new CliRunner(tmp.resolve("store"));
  }

  private Path file(String name, byte[] content) throws IOException {
    return Files.write(tmp.resolve(name), content);
  }

  @Test
  void put_printsTheDigest_andCatGivesTheBytesBack() throws IOException {
    byte[] content = "hello, cairn\n".getBytes();
    Path f = file("hello.txt", content);

    String digest = cairn.ok("put", f.toString()).line();

    assertThat(digest).isEqualTo(DigestFunction.SHA256.digestOf(content).toString());
    assertThat(cairn.ok("cat", digest).stdoutBytes()).isEqualTo(content);
  }

  @Test
  void putCat_roundTripsAnEmptyFile() throws IOException {
    Path f = file("empty", new byte[0]);

    String digest = cairn.ok("put", f.toString()).line();

    assertThat(Digest.parse(digest).sizeBytes()).isZero();
    assertThat(cairn.ok("cat", digest).stdoutBytes()).isEmpty();
  }

  @Test
  void putCat_roundTripsAFileLargerThanOneMebibyte() throws IOException {
    byte[] content = new byte[3 * 1024 * 1024 + 17];
    new Random(42).nextBytes(content);
    Path f = file("big.bin", content);

    String digest = cairn.ok("put", f.toString()).line();

    assertThat(digest).endsWith("/" + content.length);
    assertThat(cairn.ok("cat", digest).stdoutBytes()).isEqualTo(content);
  }

  @Test
  void put_manyFiles_printsOneDigestPerFileInOrder() throws IOException {
    Path a = file("a", "A".getBytes());
    Path b = file("b", "B".getBytes());

    var lines = cairn.ok("put", a.toString(), b.toString(), a.toString()).lines();

    assertThat(lines).containsExactly(
        DigestFunction.SHA256.digestOf("A".getBytes()).toString(),
        DigestFunction.SHA256.digestOf("B".getBytes()).toString(),
        DigestFunction.SHA256.digestOf("A".getBytes()).toString());
  }

  @Test
  void put_withBlake3_usesThatFunction() throws IOException {
    byte[] content = "x".getBytes();
    Path f = file("x", content);

    String digest = cairn.ok("--digest-function", "blake3", "put", f.toString()).line();

    assertThat(digest).isEqualTo(DigestFunction.BLAKE3.digestOf(content).toString());
    assertThat(cairn.ok("cat", "--digest-function=BLAKE3", digest).stdoutBytes())
        .isEqualTo(content);
  }

  @Test
  void put_missingFile_exits1NamingIt() {
    Path missing = tmp.resolve("no-such-file.txt");

    CliRunner.Result r = cairn.run("put", missing.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).isEqualTo("cairn: " + missing + ": no such file or directory\n");
    assertThat(r.stdout()).isEmpty();
  }

  @Test
  void put_directory_exits1AndPointsToImport() {
    CliRunner.Result r = cairn.run("put", tmp.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).contains(tmp + ": is a directory").contains("cairn import");
  }

  @Test
  void put_withoutFiles_isAUsageError() {
    CliRunner.Result r = cairn.run("put");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("FILE");
  }

  @Test
  void cat_unknownBlob_exits1NamingTheDigest() {
    String digest = "12".repeat(32) + "/5";

    CliRunner.Result r = cairn.run("cat", digest);

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.stderr()).isEqualTo("cairn: blob " + digest + " not found\n");
    assertThat(r.stdoutBytes()).isEmpty();
  }

  @Test
  void cat_badDigest_isAUsageErrorNamingTheArgument() {
    for (String bad : new String[] {"nonsense", "12/5", "zz".repeat(32) + "/5", "ab".repeat(32) + "/x"}) {
      CliRunner.Result r = cairn.run("cat", bad);

      assertThat(r.exitCode()).as(bad).isEqualTo(2);
      assertThat(r.stderr()).as(bad).startsWith("cairn: ").contains("DIGEST").contains("invalid digest");
    }
  }

  @Test
  void cat_uppercaseHex_isAccepted() throws IOException {
    String digest = cairn.ok("put", file("u", "u".getBytes()).toString()).line();

    assertThat(cairn.ok("cat", digest.toUpperCase()).stdout()).isEqualTo("u");
  }
}
