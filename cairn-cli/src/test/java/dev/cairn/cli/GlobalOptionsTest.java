package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GlobalOptionsTest {

  private static final String[] SUBCOMMANDS = {"put", "cat", "import", "export", "ls", "tree", "stat", "gc"};

  @TempDir Path tmp;

  @Test
  void storeOption_beforeOrAfterTheSubcommand_namesTheSameStore() throws IOException {
    Path store = tmp.resolve("s");
    Path f = Files.writeString(tmp.resolve("f"), "content");
    CliRunner noStore = new CliRunner(tmp.resolve("unused"));

    String digest = noStore.runRaw("--store", store.toString(), "put", f.toString()).line();

    assertThat(noStore.runRaw("cat", digest, "--store", store.toString()).stdout()).isEqualTo("content");
    assertThat(noStore.runRaw("cat", "--store=" + store, digest).stdout()).isEqualTo("content");
  }

  @Test
  void defaultStore_isUnderXdgCacheHome() {
    Path cache = tmp.resolve("xdg-cache");
    CliRunner cairn = new CliRunner(tmp.resolve("unused")).env("XDG_CACHE_HOME", cache.toString());

    assertThat(cairn.runRaw("stat").lines()).first().isEqualTo("store:           " + cache.resolve("cairn"));
  }

  @Test
  void defaultStore_withoutXdgCacheHome_isUnderHomeDotCache() {
    Path home = tmp.resolve("home");
    CliRunner cairn = new CliRunner(tmp.resolve("unused")).env("HOME", home.toString());

    assertThat(cairn.runRaw("stat").lines()).first().isEqualTo("store:           " + home.resolve(".cache/cairn"));
  }

  @Test
  void digestFunction_unknown_isAUsageError() {
    CliRunner.Result r = new CliRunner(tmp.resolve("s")).run("stat", "--digest-function", "md5");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("md5").contains("sha256 or blake3");
  }

  @Test
  void everyGlobalOption_isAcceptedAfterEverySubcommand() {
    for (String sub : SUBCOMMANDS) {
      CliRunner.Result r = new CliRunner(tmp.resolve("s"))
          .runRaw(sub, "--store", tmp.resolve("s").toString(), "--max-size", "1G", "--digest-function", "sha256", "--help");

      assertThat(r.exitCode()).as(sub + ": " + r.stderr()).isZero();
      assertThat(r.stdout()).as(sub).startsWith("Usage: cairn " + sub);
    }
  }

  @Test
  void help_listsEverySubcommand_andExplainsExitCodes() {
    CliRunner.Result r = new CliRunner(tmp.resolve("s")).runRaw("--help");

    assertThat(r.exitCode()).isZero();
    for (String sub : SUBCOMMANDS) {
      assertThat(r.stdout()).containsPattern("(?m)^  " + sub + " +\\S");
    }
    assertThat(r.stdout()).contains("--store=DIR", "--max-size=SIZE", "--digest-function=NAME", "Exit status");
  }

  @Test
  void everySubcommand_hasHelpThatExplainsIt() {
    for (String sub : SUBCOMMANDS) {
      CliRunner.Result r = new CliRunner(tmp.resolve("s")).runRaw(sub, "--help");

      assertThat(r.exitCode()).as(sub).isZero();
      assertThat(r.stdout().lines().count()).as(sub).isGreaterThan(5);
    }
  }

  @Test
  void version_printsCairnAndTheVersion_withOrWithoutPicocli() {
    CliRunner cairn = new CliRunner(tmp.resolve("s"));
    String expected = "cairn " + VersionProvider.version();

    assertThat(VersionProvider.version()).matches("\\d+\\.\\d+\\.\\d+.*");
    assertThat(cairn.runRaw("--version").line()).isEqualTo(expected);
    assertThat(cairn.runRaw("-V").line()).isEqualTo(expected);
    assertThat(cairn.runRaw("--store", "x", "--version").line()).isEqualTo(expected);
    assertThat(cairn.runRaw("stat", "--version").line()).isEqualTo(expected);

    var out = new ByteArrayOutputStream();
    Invocation io = new Invocation(out, new PrintStream(new ByteArrayOutputStream()), Map.of(), false);
    assertThat(Main.commandLine(io).execute("--version")).isZero();
    io.flush();
    assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo(expected + "\n");
  }

  @Test
  void noSubcommand_isAUsageError() {
    CliRunner.Result r = new CliRunner(tmp.resolve("s")).runRaw();

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("missing subcommand").contains("--help");
  }

  @Test
  void unknownSubcommand_isAUsageErrorWithASuggestion() {
    CliRunner.Result r = new CliRunner(tmp.resolve("s")).runRaw("putt");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("'putt'").contains("Did you mean: cairn put");
  }

  @Test
  void unknownOption_isAUsageError() {
    CliRunner.Result r = new CliRunner(tmp.resolve("s")).run("stat", "--frobnicate");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("--frobnicate").doesNotContain("Exception");
  }

  @Test
  void subcommandName_skipsGlobalOptionsAndTheirValues() {
    assertThat(Main.subcommandName("--store", "put", "stat")).isEqualTo("stat");
    assertThat(Main.subcommandName("--store=put", "ls", "x")).isEqualTo("ls");
    assertThat(Main.subcommandName("--max-size", "1G", "--digest-function", "blake3", "gc")).isEqualTo("gc");
    assertThat(Main.subcommandName("--version")).isNull();
    assertThat(Main.subcommandName("--", "cat")).isEqualTo("cat");
  }
}
