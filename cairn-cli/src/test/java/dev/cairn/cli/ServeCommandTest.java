package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Option and config-file errors of {@code cairn serve} are usage errors naming the culprit. */
class ServeCommandTest {
  @TempDir Path tmp;

  private CliRunner.Result serve(String... args) {
    String[] all = new String[args.length + 1];
    all[0] = "serve";
    System.arraycopy(args, 0, all, 1, args.length);
    return new CliRunner(tmp.resolve("store")).run(all);
  }

  @Test
  void missingConfigFile_isAUsageError() {
    CliRunner.Result r = serve("--config", tmp.resolve("nope.properties").toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("nope.properties").contains("does not exist");
  }

  @Test
  void unknownConfigKey_isNamed() throws Exception {
    Path config = Files.writeString(tmp.resolve("c.properties"), "grpc-listen = 127.0.0.1:0\nlisten-grpc = x\n");
    CliRunner.Result r = serve("--config", config.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("unknown key 'listen-grpc'").contains("grpc-listen");
  }

  @Test
  void badAddressesAndDurations_areUsageErrors() throws Exception {
    assertThat(serve("--grpc-listen", "localhost").stderr()).contains("invalid --grpc-listen");
    assertThat(serve("--http-listen", "127.0.0.1:99999").stderr()).contains("port out of range");
    assertThat(serve("--upload-expiry", "5 fortnights").stderr()).contains("invalid --upload-expiry");
    Path config = Files.writeString(tmp.resolve("d.properties"), "shutdown-grace = soon\n");
    CliRunner.Result r = serve("--config", config.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("invalid --shutdown-grace 'soon'");
  }

  @Test
  void durations_parse() {
    assertThat(ServeCommand.parseDuration("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(ServeCommand.parseDuration("30m")).isEqualTo(Duration.ofMinutes(30));
    assertThat(ServeCommand.parseDuration("2d")).isEqualTo(Duration.ofDays(2));
    assertThat(ServeCommand.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(ServeCommand.parseDuration("PT1H")).isEqualTo(Duration.ofHours(1));
    assertThatThrownBy(() -> ServeCommand.parseDuration("h")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void assetOptions_fromTheCommandLineAndTheConfigFile() throws Exception {
    Invocation io = new Invocation(new java.io.ByteArrayOutputStream(), System.err, java.util.Map.of(), false);
    picocli.CommandLine.ParseResult parsed = Main.commandLine(io).parseArgs("--store", tmp.toString(), "serve",
        "--asset-allow-private", "--asset-max-download-size", "1G");
    ServeCommand serve = (ServeCommand) parsed.subcommand().commandSpec().userObject();
    java.util.Properties file = new java.util.Properties();
    file.setProperty("asset-index-max-entries", "500");
    file.setProperty("asset-max-download-size", "2G"); // the command line wins
    file.setProperty("asset-fetch-timeout", "90s");
    dev.cairn.asset.AssetConfig asset = serve.config(file).asset();
    assertThat(asset.allowPrivate()).isTrue();
    assertThat(asset.maxDownloadBytes()).isEqualTo(1L << 30);
    assertThat(asset.maxIndexEntries()).isEqualTo(500);
    assertThat(asset.defaultTimeout()).isEqualTo(Duration.ofSeconds(90));

    ServeCommand plain = (ServeCommand) Main.commandLine(io).parseArgs("--store", tmp.toString(), "serve")
        .subcommand().commandSpec().userObject();
    java.util.Properties allow = new java.util.Properties();
    allow.setProperty("asset-allow-private", "true");
    assertThat(plain.config(new java.util.Properties()).asset().allowPrivate()).isFalse();
    assertThat(plain.config(allow).asset().allowPrivate()).isTrue();
  }

  @Test
  void httpOpenFiles_fromTheCommandLineAndTheConfigFile() throws Exception {
    Invocation io = new Invocation(new java.io.ByteArrayOutputStream(), System.err, java.util.Map.of(), false);
    java.util.Properties file = new java.util.Properties();
    file.setProperty("http-open-files", "12");
    ServeCommand fromFile = (ServeCommand) Main.commandLine(io).parseArgs("--store", tmp.toString(), "serve")
        .subcommand().commandSpec().userObject();
    assertThat(fromFile.config(new java.util.Properties()).httpOpenFiles())
        .isEqualTo(dev.cairn.http.HttpCacheConfig.DEFAULT_OPEN_FILES);
    assertThat(fromFile.config(file).httpOpenFiles()).isEqualTo(12);
    ServeCommand option = (ServeCommand) Main.commandLine(io).parseArgs("--store", tmp.toString(), "serve",
        "--http-open-files", "0").subcommand().commandSpec().userObject();
    assertThat(option.config(file).httpOpenFiles()).isZero(); // the command line wins

    CliRunner.Result negative = serve("--http-open-files", "-1");
    assertThat(negative.exitCode()).isEqualTo(2);
    assertThat(negative.stderr()).contains("http open files must be between 0 and 1048576");
    assertThat(serve("--http-open-files", "2000000").stderr())
        .contains("http open files must be between 0 and 1048576");
    Path config = Files.writeString(tmp.resolve("o.properties"), "http-open-files = many\n");
    CliRunner.Result words = serve("--config", config.toString());
    assertThat(words.exitCode()).isEqualTo(2);
    assertThat(words.stderr()).contains("invalid http-open-files 'many'");
  }

  @Test
  void badAssetOptions_areUsageErrors() throws Exception {
    Path config = Files.writeString(tmp.resolve("a.properties"), "asset-allow-private = maybe\n");
    CliRunner.Result r = serve("--config", config.toString());
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("invalid asset-allow-private 'maybe'");
    CliRunner.Result zero = serve("--asset-index-max-entries", "0");
    assertThat(zero.exitCode()).isEqualTo(2);
    assertThat(zero.stderr()).contains("at least 1 entry");
  }
}
