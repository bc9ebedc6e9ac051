package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.server.CairnServer;
import dev.cairn.server.ServerConfig;
import dev.cairn.server.StoreConfig;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When {@code cairn import} and {@code export} start a store service in the background: through
 * the launcher named in their environment (here a script that records how it was called), once
 * per store, and never when told not to.
 */
class ServiceCommandTest {

  @TempDir Path tmp;
  private Path store;
  private Path launcher;
  private Path calls;
  private Path tree;

  @BeforeEach
  void setUp() throws IOException {
    store = tmp.resolve("store");
    calls = tmp.resolve("calls");
    launcher = tmp.resolve("fake-cairn");
    Files.writeString(launcher, "#!/bin/sh\nprintf '%s\\n' \"$PWD\" \"$@\" > "
        + calls + ".tmp && mv " + calls + ".tmp " + calls + "\n");
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwx------"));
    tree = Files.createDirectories(tmp.resolve("tree"));
    Files.writeString(tree.resolve("a"), "a");
  }

  private CliRunner cairn() {
    return new CliRunner(store).env(ServiceCommand.LAUNCHER_ENV, launcher.toString())
        .env("XDG_STATE_HOME", tmp.resolve("state").toString());
  }

  @Test
  void importStartsTheServiceForItsStore_throughTheLauncher() throws Exception {
    cairn().ok("--max-size", "1G", "import", tree.toString());

    assertThat(awaitCalls()).containsExactly("/", "--store", store.toString(),
        "--digest-function", "sha256", "--max-size", Long.toString(1L << 30), "service");
  }

  @Test
  void exportStartsItToo() throws Exception {
    String root = new CliRunner(store).ok("import", tree.toString()).line();
    cairn().ok("export", root, tmp.resolve("out").toString());

    assertThat(awaitCalls()).endsWith("service");
  }

  @Test
  void noServiceIsStarted_whenTurnedOff_forARemote_orWhenOneRuns() throws Exception {
    cairn().env(ServiceCommand.SERVICE_ENV, "off").ok("import", tree.toString());
    cairn().env(ServiceCommand.SERVICE_ENV, "0").ok("import", tree.toString());
    new CliRunner(store).ok("import", tree.toString()); // not run by the launcher
    java.net.InetSocketAddress any = new java.net.InetSocketAddress("127.0.0.1", 0);
    try (CairnServer server = CairnServer.start(ServerConfig.defaults(
        new StoreConfig.Disk(DiskStoreConfig.at(tmp.resolve("server")))).withListen(any, any))) {
      cairn().ok("--remote", "grpc://127.0.0.1:" + server.grpcAddress().getPort(), "import",
          tree.toString()); // works on the server, not on this store
    }
    Thread.sleep(2000); // a started launcher would have written by now (it takes milliseconds)
    assertThat(calls).doesNotExist();

    Files.writeString(store.resolve(StoreService.FILE), "pid=" + ProcessHandle.current().pid()
        + "\n");
    cairn().ok("import", tree.toString());
    Thread.sleep(2000);
    assertThat(calls).as("a service runs already").doesNotExist();
  }

  @Test
  void aDeadServicesFile_doesNotCountAsRunning() throws Exception {
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    Files.createDirectories(store);
    Files.writeString(store.resolve(StoreService.FILE), "pid=" + gone.pid() + "\n");

    cairn().ok("import", tree.toString());

    assertThat(awaitCalls()).endsWith("service");
  }

  @Test
  void statusAndStop_withoutALiveService_sayThereIsNone_andSignalNothing() throws Exception {
    CliRunner cairn = new CliRunner(store);
    Files.createDirectories(store);
    CliRunner.Result none = cairn.run("service", "--status");
    assertThat(none.exitCode()).isEqualTo(1);
    assertThat(none.stdout()).isEqualTo("no store service for " + store + "\n");

    // A stale file whose pid is now another live process of ours: never signalled, as that
    // process does not answer on the port with the file's proof.
    Process innocent = new ProcessBuilder("sleep", "30").start();
    try {
      Files.writeString(store.resolve(StoreService.FILE), "port=1\ntoken=" + "ab".repeat(32)
          + "\nreply=" + "cd".repeat(32) + "\npid=" + innocent.pid() + "\njar=\n");
      assertThat(cairn.run("service", "--status").exitCode()).isEqualTo(1);
      CliRunner.Result stop = cairn.run("service", "--stop");
      assertThat(stop.exitCode()).isZero();
      assertThat(stop.stdout()).startsWith("no store service");
      assertThat(innocent.isAlive()).isTrue();
    } finally {
      innocent.destroy();
    }
    assertThat(cairn.run("service", "--status", "--stop").exitCode()).isEqualTo(2);
  }

  private List<String> awaitCalls() throws Exception {
    for (int i = 0; i < 200 && !Files.exists(calls); i++) {
      Thread.sleep(50);
    }
    assertThat(calls).as("the launcher was started").exists();
    return Files.readAllLines(calls);
  }
}
