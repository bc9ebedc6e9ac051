package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.fuse.kernel.Mounter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import dev.cairn.cli.LauncherProcess.Run;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code cairn mount} and {@code cairn umount} on real FUSE mounts: in-process with
 * {@code --foreground}, and as the detached daemon the real {@code ./cairn} launcher starts.
 */
class MountCommandIT {

  @TempDir Path tmp;
  private CliRunner cairn;
  private Path mnt;
  private String digest;

  @BeforeEach
  void importTree() throws IOException {
    cairn = new CliRunner(tmp.resolve("store"));
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("sub/empty"));
    Files.writeString(src.resolve("sub/file.txt"), "content\n");
    Files.writeString(src.resolve("tool.sh"), "#!/bin/sh\necho tool\n");
    Files.setPosixFilePermissions(src.resolve("tool.sh"),
        java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("sub/file.txt"));
    digest = cairn.ok("import", src.toString()).line();
    mnt = Files.createDirectories(tmp.resolve("mnt"));
  }

  @AfterEach
  void cleanUp() throws IOException {
    if (Mounter.isMounted(mnt)) {
      Mounter.unmount(mnt, true);
    }
  }

  @Test
  void foregroundMount_servesTheTreeUntilUmount() throws Exception {
    CompletableFuture<CliRunner.Result> running =
        CompletableFuture.supplyAsync(() -> cairn.run("mount", "--foreground", digest, mnt.toString()));
    awaitMounted(running);
    Path exported = tmp.resolve("exported");
    cairn.ok("export", digest, exported.toString());
    assertThat(describe(mnt, false)).isEqualTo(describe(exported, false));

    cairn.ok("umount", mnt.toString());

    CliRunner.Result r = running.get(30, TimeUnit.SECONDS);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(Mounter.isMounted(mnt)).isFalse();
  }

  @Test
  void writableMount_capturesWhatImportingTheSameChangesGives() throws Exception {
    CompletableFuture<CliRunner.Result> running = CompletableFuture.supplyAsync(() ->
        cairn.run("mount", "--foreground", "--writable", "--capture-on-unmount", digest, mnt.toString()));
    awaitMounted(running);
    sampleEdits(mnt);

    Path onDisk = tmp.resolve("on-disk");
    cairn.ok("export", digest, onDisk.toString());
    sampleEdits(onDisk);
    String expected = cairn.ok("import", onDisk.toString()).line();

    assertThat(cairn.ok("capture", mnt.toString()).line()).isEqualTo(expected);
    cairn.ok("umount", mnt.toString());
    CliRunner.Result r = running.get(30, TimeUnit.SECONDS);
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    assertThat(r.line()).isEqualTo(expected); // --capture-on-unmount
    // the captured tree is in the store: export it back
    Path back = tmp.resolve("back");
    cairn.ok("export", expected, back.toString());
    assertThat(Files.readString(back.resolve("added.txt"))).isEqualTo("added\n");
  }

  @Test
  void captureOfAReadOnlyMount_isItsRoot_andFlushWithoutRefsIsAUsageError() throws Exception {
    CompletableFuture<CliRunner.Result> running =
        CompletableFuture.supplyAsync(() -> cairn.run("mount", "--foreground", digest, mnt.toString()));
    awaitMounted(running);
    assertThat(cairn.ok("capture", mnt.toString()).line()).isEqualTo(digest);
    cairn.ok("umount", mnt.toString());
    assertThat(running.get(30, TimeUnit.SECONDS).exitCode()).isZero();

    CliRunner.Result flush = cairn.run("mount", "--flush", "on-close", "--ref", "a/b",
        digest, mnt.toString());
    assertThat(flush.exitCode()).isEqualTo(2);
    assertThat(flush.stderr()).contains("need --writable");
    CliRunner.Result noRef = cairn.run("mount", "--writable", "--flush", "on-close", digest,
        mnt.toString());
    assertThat(noRef.exitCode()).isEqualTo(2);
    assertThat(noRef.stderr()).contains("--flush needs --ref");
    CliRunner.Result badPolicy = cairn.run("mount", "--writable", "--flush", "sometimes", "--ref",
        "a/b", digest, mnt.toString());
    assertThat(badPolicy.exitCode()).isEqualTo(2);
    assertThat(badPolicy.stderr()).contains("expected on-unmount, on-close");
    assertThat(cairn.run("mount", "--capture-on-unmount", digest, mnt.toString()).exitCode())
        .isEqualTo(2);
  }

  @Test
  void remoteMount_fetchesFromACairnServerIntoTheLocalStore() throws Exception {
    Path serverStore = tmp.resolve("server-store");
    String remoteDigest = importOnServerSide(serverStore);
    try (dev.cairn.server.CairnServer server = startServer(serverStore)) {
      String url = "grpc://127.0.0.1:" + server.grpcAddress().getPort();
      CompletableFuture<CliRunner.Result> running = CompletableFuture.supplyAsync(() ->
          cairn.run("--remote", url, "mount", "--foreground", remoteDigest, mnt.toString()));
      awaitMountedAt(running, "dir");
      assertThat(Files.readString(mnt.resolve("dir/remote.txt"))).isEqualTo("from the server\n");
      cairn.ok("umount", mnt.toString());
      assertThat(running.get(30, TimeUnit.SECONDS).exitCode()).isZero();
    }
    // fetched into the local store: the tree now exports without the server
    Path back = tmp.resolve("back");
    cairn.ok("export", remoteDigest, back.toString());
    assertThat(Files.readString(back.resolve("dir/remote.txt"))).isEqualTo("from the server\n");
  }

  @Test
  void mountOfALocalRef_publishesItsCaptureToTheRef() throws Exception {
    cairn.ok("ref", "set", "team/app", digest);
    CompletableFuture<CliRunner.Result> running = CompletableFuture.supplyAsync(() ->
        cairn.run("mount", "--foreground", "--writable", "--flush", "on-unmount", "--ref",
            "team/app", "ref:team/app", mnt.toString()));
    awaitMounted(running);
    assertThat(Files.readString(mnt.resolve("sub/file.txt"))).isEqualTo("content\n");
    Files.writeString(mnt.resolve("new.txt"), "published\n");
    String captured = cairn.ok("capture", mnt.toString()).line();
    assertThat(captured).isNotEqualTo(digest);

    cairn.ok("umount", mnt.toString());
    CliRunner.Result r = running.get(30, TimeUnit.SECONDS);
    assertThat(r.exitCode()).as(r.stderr()).isZero();

    assertThat(cairn.ok("ref", "get", "team/app").line()).isEqualTo(captured);
  }

  @Test
  void mountOfARemoteRef_uploadsTheCaptureAndMovesTheRefOnTheServer() throws Exception {
    Path serverStore = tmp.resolve("server-store");
    String remoteDigest = importOnServerSide(serverStore);
    try (dev.cairn.server.CairnServer server = startServer(serverStore)) {
      String url = "grpc://127.0.0.1:" + server.grpcAddress().getPort();
      cairn.ok("--remote", url, "ref", "set", "shared/inputs", remoteDigest);
      CompletableFuture<CliRunner.Result> running = CompletableFuture.supplyAsync(() ->
          cairn.run("--remote", url, "mount", "--foreground", "--writable", "--flush",
              "on-unmount", "--ref", "shared/inputs", "ref:shared/inputs", mnt.toString()));
      awaitMountedAt(running, "dir");
      Files.writeString(mnt.resolve("dir/remote.txt"), "edited in the mount\n");
      Files.writeString(mnt.resolve("added.txt"), "added\n");
      String captured = cairn.ok("capture", mnt.toString()).line();
      cairn.ok("umount", mnt.toString());
      CliRunner.Result r = running.get(30, TimeUnit.SECONDS);
      assertThat(r.exitCode()).as(r.stderr()).isZero();

      // the ref moved on the server, and the server alone has the whole tree
      assertThat(cairn.ok("--remote", url, "ref", "get", "shared/inputs").line()).isEqualTo(captured);
      Path back = tmp.resolve("back");
      new CliRunner(tmp.resolve("fresh-store")).ok("--remote", url, "export", captured,
          back.toString());
      assertThat(Files.readString(back.resolve("dir/remote.txt"))).isEqualTo("edited in the mount\n");
      assertThat(Files.readString(back.resolve("added.txt"))).isEqualTo("added\n");
    }
  }

  @Test
  void badArguments_areUsageErrors_andAMissingTreeIsAnError() {
    assertThat(cairn.run("mount", "nope", mnt.toString()).exitCode()).isEqualTo(2);
    CliRunner.Result badRef = cairn.run("mount", "ref:../app", mnt.toString());
    assertThat(badRef.exitCode()).isEqualTo(2);
    assertThat(badRef.stderr()).contains("../app");
    CliRunner.Result noRef = cairn.run("mount", "--foreground", "ref:team/app", mnt.toString());
    assertThat(noRef.exitCode()).isEqualTo(1);
    assertThat(noRef.stderr()).contains("no ref 'team/app' in the store at");
    CliRunner.Result missing = cairn.run("mount", "--foreground",
        "1111111111111111111111111111111111111111111111111111111111111111/10", mnt.toString());
    assertThat(missing.exitCode()).isEqualTo(1);
    assertThat(missing.stderr()).contains("is not in the store");
    assertThat(cairn.run("mount", digest, tmp.resolve("no-dir").toString()).exitCode()).isEqualTo(2);
    CliRunner.Result notMounted = cairn.run("umount", mnt.toString());
    assertThat(notMounted.exitCode()).isEqualTo(1);
    assertThat(notMounted.stderr()).contains("is not a FUSE mount point");
  }

  @Test
  void daemon_returnsOnceMounted_andUmountClearsTheMountOfAKilledDaemon() throws Exception {
    Path launcher = LauncherProcess.path();
    Run m = run(launcher, "--store", tmp.resolve("store").toString(), "mount", digest, mnt.toString());
    assertThat(m.exitCode()).as(m.stderr()).isZero();
    assertThat(m.stdout()).isEmpty();
    // ready when the command returned: no polling
    assertThat(Files.readString(mnt.resolve("sub/file.txt"))).isEqualTo("content\n");
    Process tool = new ProcessBuilder(mnt.resolve("tool.sh").toString()).start();
    assertThat(new String(tool.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("tool\n");

    ProcessHandle daemon = ProcessHandle.allProcesses()
        .filter(p -> p.info().arguments().map(a -> List.of(a).contains(mnt.toString())
            && List.of(a).contains("--foreground")).orElse(false))
        .findFirst().orElseThrow();
    daemon.destroyForcibly();
    daemon.onExit().get(30, TimeUnit.SECONDS);
    assertThat(Mounter.isMounted(mnt)).isTrue(); // left behind, as after a crash

    Run u = run(launcher, "umount", mnt.toString());
    assertThat(u.exitCode()).as(u.stderr()).isZero();
    assertThat(Mounter.isMounted(mnt)).isFalse();
  }

  /** Imports dir/remote.txt into the store a server will serve; returns the tree's digest. */
  private String importOnServerSide(Path serverStore) throws IOException {
    Path src = Files.createDirectories(tmp.resolve("remote-src/dir"));
    Files.writeString(src.resolve("remote.txt"), "from the server\n");
    return new CliRunner(serverStore).ok("import", src.getParent().toString()).line();
  }

  /** A real Cairn server (gRPC with the Remote Asset services) on loopback, over {@code store}. */
  private static dev.cairn.server.CairnServer startServer(Path store) throws IOException {
    return dev.cairn.server.CairnServer.start(
        dev.cairn.server.ServerConfig.defaults(new dev.cairn.server.StoreConfig.Disk(
                dev.cairn.store.disk.DiskStoreConfig.at(store)))
            .withListen(new java.net.InetSocketAddress("127.0.0.1", 0),
                new java.net.InetSocketAddress("127.0.0.1", 0)));
  }

  private void awaitMounted(CompletableFuture<CliRunner.Result> running) throws Exception {
    awaitMountedAt(running, "sub");
  }

  private void awaitMountedAt(CompletableFuture<CliRunner.Result> running, String entry)
      throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!Mounter.isMounted(mnt) || !Files.exists(mnt.resolve(entry))) {
      if (running.isDone()) {
        throw new AssertionError("mount ended early: " + running.get().stderr());
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not mounted after 30 s");
      }
      Thread.sleep(20);
    }
  }

  /** Every entry with its content, and its mode bits if {@code modes}, else whether executable. */
  static List<String> describe(Path root, boolean modes) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted().toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.add("L " + rel + " " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p)) {
          out.add("D " + rel + " " + (modes ? PosixFilePermissions.toString(
              Files.getPosixFilePermissions(p)) : ""));
        } else {
          out.add("F " + rel + " " + (modes ? PosixFilePermissions.toString(
              Files.getPosixFilePermissions(p)) : Files.isExecutable(p)) + " "
              + Files.readString(p));
        }
      }
    }
    return out;
  }

  /** The edits the writable-mount tests make, on a mount and on an exported copy alike. */
  static void sampleEdits(Path root) throws IOException {
    Files.writeString(root.resolve("sub/file.txt"), "edited\n");
    Files.writeString(root.resolve("added.txt"), "added\n");
    Files.delete(root.resolve("link"));
  }

  private Run run(Path launcher, String... args) throws Exception {
    ProcessBuilder pb = LauncherProcess.command(args).directory(tmp.toFile());
    pb.environment().put("HOME", tmp.resolve("home").toString());
    return LauncherProcess.run(pb);
  }


}
