package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.fuse.kernel.Mounter;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import dev.cairn.cli.LauncherProcess.Run;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store service end to end: real {@code ./cairn} launcher processes, the daemon the first
 * mount starts, mounts hosted by it through the launcher's bash fast path, real FUSE mounts.
 */
class StoreServiceIT {

  private static final String ABSENT = "1".repeat(64) + "/10";

  @TempDir Path tmp;
  private CliRunner cairn;
  private Path store;
  private Path home;
  private String digest;
  private final Set<Long> services = new HashSet<>();

  @BeforeEach
  void importTree() throws IOException {
    store = tmp.resolve("store");
    home = Files.createDirectories(tmp.resolve("home"));
    cairn = new CliRunner(store);
    Path src = Files.createDirectories(tmp.resolve("src"));
    Files.createDirectories(src.resolve("sub/empty"));
    Files.writeString(src.resolve("sub/file.txt"), "content\n");
    Files.writeString(src.resolve("tool.sh"), "#!/bin/sh\necho tool\n");
    Files.setPosixFilePermissions(src.resolve("tool.sh"),
        PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("sub/file.txt"));
    digest = cairn.ok("import", src.toString()).line();
  }

  @AfterEach
  void cleanUp() throws Exception {
    try (Stream<Path> dirs = Files.list(tmp)) {
      for (Path d : dirs.toList()) {
        if (Mounter.isMounted(d)) {
          Mounter.unmount(d, true);
        }
      }
    }
    for (long pid : services) { // only the daemons these tests started
      ProcessHandle.of(pid).ifPresent(p -> {
        p.destroy();
        p.onExit().join();
      });
    }
  }

  /**
   * The first mount of the store through the launcher, whose daemon becomes the store service:
   * checked to succeed, and the service's pid kept for clean-up.
   */
  private Run mountFirst(Path mountPoint) throws Exception {
    Run first = launcher(Map.of(), "--store", store.toString(), "mount", digest,
        mountPoint.toString());
    assertThat(first.exitCode()).as(first.stderr()).isZero();
    services.add(Long.parseLong(serviceFile().get("pid")));
    return first;
  }

  @Test
  void laterMounts_areHostedByTheFirstMountsDaemon_thenItLingersAndExits() throws Exception {
    Path m1 = mountPoint("m1");
    Path m2 = mountPoint("m2");
    mountFirst(m1);
    Map<String, String> rendezvous = serviceFile();
    long pid = Long.parseLong(rendezvous.get("pid"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        store.resolve(StoreService.FILE)))).isEqualTo("rw-------");

    // relative store and mount point, from the caller's directory
    Run second = launcher(Map.of(), "--store", "store", "mount", digest, "m2");

    assertThat(second.exitCode()).as(second.stderr()).isZero();
    assertThat(second.stdout()).isEmpty();
    assertThat(Mounter.isMounted(m2)).isTrue();
    assertThat(serviceFile()).isEqualTo(rendezvous);
    assertThat(serviceLog(m1)).contains("store service: 'cairn --store store mount " + digest
        + " m2' in " + tmp + ": exit status 0", "mounted " + digest + " at " + m2);
    assertThat(logOf(m2)).as("no daemon of its own").doesNotExist();
    Path exported = tmp.resolve("exported");
    cairn.ok("export", digest, exported.toString());
    // m1: the daemon's own mount
    assertThat(MountCommandIT.describe(m2, true)).isEqualTo(MountCommandIT.describe(m1, true));
    assertThat(MountCommandIT.describe(m2, false))
        .isEqualTo(MountCommandIT.describe(exported, false));
    Process tool = new ProcessBuilder(m2.resolve("tool.sh").toString()).start();
    assertThat(new String(tool.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
        .isEqualTo("tool\n");

    // errors: the same status and message as the command run in its own process
    Path m3 = mountPoint("m3");
    Run usage = launcher(Map.of(), "--store", store.toString(), "mount", "nope", m3.toString());
    CliRunner.Result usageDirect = cairn.run("mount", "nope", m3.toString());
    assertThat(usage.exitCode()).isEqualTo(2).isEqualTo(usageDirect.exitCode());
    assertThat(usage.stderr()).isEqualTo(usageDirect.stderr());
    Run absent = launcher(Map.of(), "--store", store.toString(), "mount", ABSENT, m3.toString());
    CliRunner.Result absentDirect = cairn.run("mount", "--foreground", ABSENT, m3.toString());
    assertThat(absent.exitCode()).isEqualTo(1).isEqualTo(absentDirect.exitCode());
    assertThat(absent.stderr()).isEqualTo(absentDirect.stderr())
        .contains("tree " + ABSENT + " is not in the store at " + store);
    assertThat(serviceLog(m1)).contains("mount " + ABSENT + " " + m3 + "' in " + tmp
        + ": exit status 1", "mount nope " + m3 + "' in " + tmp + ": exit status 2");

    // a request without the token mounts nothing and gets no answer
    ServiceRequest forged = new ServiceRequest("0".repeat(64), tmp.toString(), Map.of(),
        List.of("--store", store.toString(), "mount", digest, m3.toString()));
    assertThat(send(Integer.parseInt(rendezvous.get("port")), forged.encode())).isEmpty();
    assertThat(Mounter.isMounted(m3)).isFalse();
    assertThat(serviceLog(m1)).contains("with a wrong token");

    // umount of each; then the service lingers (1 s here) and exits, removing its file
    Run u2 = launcher(Map.of(), "umount", m2.toString());
    assertThat(u2.exitCode()).as(u2.stderr()).isZero();
    assertThat(Mounter.isMounted(m2)).isFalse();
    assertThat(ProcessHandle.of(pid)).as("still serving m1").isPresent();
    Run u1 = launcher(Map.of(), "umount", m1.toString());
    assertThat(u1.exitCode()).as(u1.stderr()).isZero();
    assertThat(Mounter.isMounted(m1)).isFalse();
    ProcessHandle.of(pid).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
    assertThat(store.resolve(StoreService.FILE)).doesNotExist();
    assertThat(serviceLog(m1)).contains("unmounted " + m2, "unmounted " + m1,
        "store service idle for 1 s: exiting");
  }

  @Test
  void aWritableMountHostedByTheService_capturesAndPublishesToItsRefLikeItsOwnDaemon() throws Exception {
    Path m1 = mountPoint("m1");
    Path w = mountPoint("w");
    mountFirst(m1);

    cairn.ok("ref", "set", "team/app", digest);
    Run writable = launcher(Map.of(), "--store", store.toString(), "mount", "--writable",
        "--capture-on-unmount", "--ref", "team/app", "ref:team/app", w.toString());
    assertThat(writable.exitCode()).as(writable.stderr()).isZero();
    assertThat(logOf(w)).doesNotExist();
    MountCommandIT.sampleEdits(w);

    Path onDisk = tmp.resolve("on-disk");
    cairn.ok("export", digest, onDisk.toString());
    MountCommandIT.sampleEdits(onDisk);
    String expected = cairn.ok("import", onDisk.toString()).line();

    Run capture = launcher(Map.of(), "capture", w.toString());
    assertThat(capture.stdout().strip()).as(capture.stderr()).isEqualTo(expected);
    Process u = new ProcessBuilder("fusermount3", "-u", w.toString()).inheritIO().start();
    assertThat(u.waitFor()).isZero();
    awaitLog(m1, w + ": final root digest " + expected);
    assertThat(cairn.ok("ref", "get", "team/app").line()).isEqualTo(expected); // --ref, on-unmount
    Path back = tmp.resolve("back");
    cairn.ok("export", expected, back.toString());
    assertThat(Files.readString(back.resolve("added.txt"))).isEqualTo("added\n");
    assertThat(Mounter.isMounted(m1)).as("the other mount is untouched").isTrue();
  }

  @Test
  void eachHostedMount_hasItsOwnRemote_andTrackAccessFileFromTheCallersDirectory()
      throws Exception {
    Path m1 = mountPoint("m1");
    mountFirst(m1);
    Path serverStore = tmp.resolve("server-store");
    Path remoteSrc = Files.createDirectories(tmp.resolve("remote-src/dir"));
    Files.writeString(remoteSrc.resolve("remote.txt"), "from the server\n");
    String remoteDigest = new CliRunner(serverStore).ok("import", remoteSrc.getParent().toString())
        .line();
    Path r = mountPoint("r");

    try (dev.cairn.server.CairnServer server = dev.cairn.server.CairnServer.start(
        dev.cairn.server.ServerConfig.defaults(new dev.cairn.server.StoreConfig.Disk(
                dev.cairn.store.disk.DiskStoreConfig.at(serverStore)))
            .withListen(new java.net.InetSocketAddress("127.0.0.1", 0),
                new java.net.InetSocketAddress("127.0.0.1", 0)))) {
      String url = "grpc://127.0.0.1:" + server.grpcAddress().getPort();
      Run remote = launcher(Map.of(), "--store", store.toString(), "--remote", url, "mount",
          "--track-access", "accessed.txt", remoteDigest, "r");
      assertThat(remote.exitCode()).as(remote.stderr()).isZero();
      assertThat(serviceLog(m1)).contains("mounted " + remoteDigest + " at " + r);
      assertThat(Files.readString(r.resolve("dir/remote.txt"))).isEqualTo("from the server\n");
      Run u = launcher(Map.of(), "umount", r.toString());
      assertThat(u.exitCode()).as(u.stderr()).isZero();
      awaitLog(m1, "unmounted " + r);
    }
    assertThat(Files.readAllLines(tmp.resolve("accessed.txt"))).contains("dir/remote.txt");
    // fetched into the shared local store: exported without the server
    Path back = tmp.resolve("back");
    cairn.ok("export", remoteDigest, back.toString());
    assertThat(Files.readString(back.resolve("dir/remote.txt"))).isEqualTo("from the server\n");
    assertThat(Files.readString(m1.resolve("sub/file.txt"))).isEqualTo("content\n");
  }

  @Test
  void aListenerThatIsNotTheService_cannotAnswerForIt() throws Exception {
    // A dead service's file, its port taken over by another process that claims success: it
    // does not know the service's reply secret, so the launcher mounts the normal way.
    try (ServerSocket impostor = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread answering = Thread.ofVirtual().start(() -> {
        try (var c = impostor.accept()) {
          c.getOutputStream().write("cairn-service-1\0000\0\0\0".getBytes(StandardCharsets.UTF_8));
          c.getOutputStream().flush();
          c.getInputStream().readNBytes(1); // hold the connection until the client leaves
        } catch (IOException e) {
          // the client closed first
        }
      });
      Files.createDirectories(store);
      writeServiceFile(impostor.getLocalPort(), ProcessHandle.current().pid());
      Path m1 = mountPoint("m1");
      mountFirst(m1);
      assertThat(Files.readString(m1.resolve("sub/file.txt"))).isEqualTo("content\n");
      assertThat(logOf(m1)).as("served by a daemon of its own").exists();
      answering.join(30_000);
    }
  }

  @Test
  void aStaleServiceFile_fallsBackToANewDaemon() throws Exception {
    // a dead pid
    Process gone = new ProcessBuilder("true").start();
    gone.waitFor();
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      closedPort = s.getLocalPort();
    }
    Files.createDirectories(store);
    writeServiceFile(closedPort, gone.pid());
    Path m1 = mountPoint("m1");
    assertThat(mountFirst(m1).stderr()).isEmpty();
    assertThat(Files.readString(m1.resolve("sub/file.txt"))).isEqualTo("content\n");
    long pid = Long.parseLong(serviceFile().get("pid"));
    assertThat(pid).isNotEqualTo(gone.pid());

    // a live pid (this JVM's) but a closed port
    writeServiceFile(closedPort, ProcessHandle.current().pid());
    Path m2 = mountPoint("m2");
    Run second = launcher(Map.of(), "--store", store.toString(), "mount", digest, m2.toString());
    assertThat(second.exitCode()).as(second.stderr()).isZero();
    assertThat(second.stderr()).isEmpty();
    assertThat(Files.readString(m2.resolve("sub/file.txt"))).isEqualTo("content\n");
    assertThat(logOf(m2)).as("served by a daemon of its own").exists();
    long pid2 = Long.parseLong(serviceFile().get("pid"));
    services.add(pid2);
    assertThat(pid2).isNotEqualTo(pid);

    // the new daemon is the service now: it hosts the next mount
    Path m3 = mountPoint("m3");
    Run third = launcher(Map.of(), "--store", store.toString(), "mount", digest, m3.toString());
    assertThat(third.exitCode()).as(third.stderr()).isZero();
    assertThat(serviceLog(m2)).contains("mounted " + digest + " at " + m3);

    // SIGTERM to a service unmounts all its mounts, and only its own
    ProcessHandle.of(pid2).orElseThrow().destroy();
    ProcessHandle.of(pid2).ifPresent(p -> p.onExit().orTimeout(30, TimeUnit.SECONDS).join());
    assertThat(Mounter.isMounted(m2)).isFalse();
    assertThat(Mounter.isMounted(m3)).isFalse();
    assertThat(Mounter.isMounted(m1)).isTrue();
    assertThat(serviceLog(m2)).contains("unmounted " + m3, "unmounted " + m2,
        "store service stopped: exiting");
  }

  @Test
  void aServiceWhoseJarWasRebuilt_answersFallback() throws Exception {
    Path m1 = mountPoint("m1");
    mountFirst(m1);
    Map<String, String> rendezvous = serviceFile();
    Path jar = LauncherProcess.path().resolveSibling("cairn-cli/target/cairn.jar");
    // as a rebuild would: a newer jar (same bytes, so the launcher does not rebuild it)
    Files.setLastModifiedTime(jar, java.nio.file.attribute.FileTime.fromMillis(
        System.currentTimeMillis()));

    ServiceRequest request = new ServiceRequest(rendezvous.get("token"), tmp.toString(),
        Map.of(StoreService.CLIENT_PID_ENV, Long.toString(ProcessHandle.current().pid())),
        List.of("--store", store.toString(), "mount", digest, mountPoint("m2").toString()));
    String reply = new String(send(Integer.parseInt(rendezvous.get("port")),
        StoreServiceTest.withGo(request.encode())), StandardCharsets.UTF_8);

    assertThat(reply).isEqualTo(rendezvous.get("reply") + "\0fallback\0\0\0");
    assertThat(Mounter.isMounted(tmp.resolve("m2"))).isFalse();
    assertThat(serviceLog(m1)).contains("changed since it started");
  }

  // ------------------------------------------------------------------ helpers


  @Test
  void anImportThroughTheLauncher_leavesAService_thatRunsTheNextImportsAndExports()
      throws Exception {
    Map<String, String> env = Map.of(StoreService.LINGER_ENV, "2m");
    Run first = launcher(env, "--store", "store", "import", "src");
    assertThat(first.exitCode()).as(first.stderr()).isZero();
    assertThat(first.stdout()).isEqualTo(digest + "\n");
    long pid = awaitService();
    services.add(pid);
    Path log = home.resolve(".local/state/cairn/service.log");

    Path src = tmp.resolve("src");
    Files.writeString(src.resolve("sub/new.txt"), "new\n");
    String expected = new CliRunner(tmp.resolve("direct")).ok("import", src.toString()).line();
    Run second = launcher(env, "--store", "store", "import", "src");
    Run export = launcher(env, "--store", "store", "export", expected, "out");

    assertThat(second.exitCode()).as(second.stderr()).isZero();
    assertThat(second.stdout()).isEqualTo(expected + "\n");
    assertThat(export.exitCode()).as(export.stderr()).isZero();
    assertThat(MountCommandIT.describe(tmp.resolve("out"), true))
        .isEqualTo(MountCommandIT.describe(src, true));
    assertThat(Files.readString(log)).contains(
        "store service: 'cairn --store store import src' in " + tmp + ": exit status 0",
        "store service: 'cairn --store store export " + expected + " out' in " + tmp
            + ": exit status 0");
    assertThat(serviceFile().get("pid")).as("the same service").isEqualTo(Long.toString(pid));

    // errors: the same status and message as the command run in its own process
    Path missing = tmp.resolve("missing");
    Run absent = launcher(env, "--store", store.toString(), "import", missing.toString());
    CliRunner.Result absentDirect = cairn.run("import", missing.toString());
    assertThat(absent.exitCode()).isEqualTo(1).isEqualTo(absentDirect.exitCode());
    assertThat(absent.stderr()).isEqualTo(absentDirect.stderr()).contains(missing.toString());
    assertThat(Files.readString(log)).contains("import " + missing + "' in " + tmp
        + ": exit status 1");

    // CAIRN_SERVICE=off: a JVM of its own, although the service runs
    Run own = launcher(Map.of(StoreService.LINGER_ENV, "2m", ServiceCommand.SERVICE_ENV, "off"),
        "--store", "store", "import", "--json", "src");
    assertThat(own.exitCode()).as(own.stderr()).isZero();
    assertThat(own.stdout()).contains(expected);
    assertThat(Files.readString(log)).doesNotContain("import --json src'");

    // cairn service --status and --stop
    Run status = launcher(env, "--store", "store", "service", "--status");
    assertThat(status.exitCode()).as(status.stderr()).isZero();
    assertThat(status.stdout()).startsWith("store service for " + store + ": pid " + pid + ", ");
    Run stop = launcher(env, "--store", "store", "service", "--stop");
    assertThat(stop.exitCode()).as(stop.stderr()).isZero();
    assertThat(stop.stdout()).isEqualTo("stopped the store service for " + store + " (pid " + pid
        + ")\n");
    assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).isNotEqualTo(Optional.of(true));
    assertThat(store.resolve(StoreService.FILE)).doesNotExist();
    assertThat(launcher(env, "--store", "store", "service", "--status").exitCode()).isEqualTo(1);
  }

  @Test
  void aClientWhoseDirectoryWasDeletedAndMadeAgain_isNotServedInTheNewOne() throws Exception {
    Map<String, String> env = Map.of(StoreService.LINGER_ENV, "2m");
    Run first = launcher(env, "--store", store.toString(), "import", "src");
    assertThat(first.exitCode()).as(first.stderr()).isZero();
    services.add(awaitService());
    Path gone = Files.createDirectories(tmp.resolve("gone"));

    // The shell's cwd is the deleted directory; $PWD names the new one of the same name.
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", "cd \"$1\" && rmdir \"$1\" && mkdir \"$1\""
        + " && exec \"$2\" --store \"$3\" export \"$4\" out", "_", gone.toString(),
        LauncherProcess.path().toString(), store.toString(), digest).directory(tmp.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("XDG_") || k.startsWith("CAIRN_"));
    pb.environment().put("HOME", home.toString());
    Run stale = LauncherProcess.run(pb);

    assertThat(gone.resolve("out")).as("nothing written where the client is not").doesNotExist();
    assertThat(stale.exitCode()).as(stale.stdout() + stale.stderr()).isNotZero();
    assertThat(Files.readString(home.resolve(".local/state/cairn/service.log")))
        .doesNotContain("export " + digest + " out'");
  }

  /** Waits for the service file a background start writes; its pid. */
  private long awaitService() throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (!ServiceCommand.running(store)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no store service for " + store + " after 60 s");
      }
      Thread.sleep(50);
    }
    return Long.parseLong(serviceFile().get("pid"));
  }

  private Path mountPoint(String name) throws IOException {
    return Files.createDirectories(tmp.resolve(name));
  }

  private Map<String, String> serviceFile() throws IOException {
    Map<String, String> fields = new LinkedHashMap<>();
    for (String line : Files.readAllLines(store.resolve(StoreService.FILE))) {
      fields.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
    }
    return fields;
  }

  private void writeServiceFile(int port, long pid) throws IOException {
    Files.writeString(store.resolve(StoreService.FILE), "port=" + port + "\ntoken="
        + "ab".repeat(32) + "\nreply=" + "cd".repeat(32) + "\npid=" + pid + "\n");
  }

  /** The log of the daemon started for the mount at {@code mountpoint}. */
  private Path logOf(Path mountpoint) {
    return home.resolve(".local/state/cairn/mount"
        + mountpoint.toString().replaceAll("[^A-Za-z0-9._-]", "_") + ".log");
  }

  private String serviceLog(Path firstMount) throws IOException {
    return Files.readString(logOf(firstMount));
  }

  private void awaitLog(Path firstMount, String text) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!serviceLog(firstMount).contains(text)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not in the log after 30 s: " + text + "\n"
            + serviceLog(firstMount));
      }
      Thread.sleep(50);
    }
  }

  private static byte[] send(int port, byte[] request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      s.setSoTimeout(30_000);
      s.getOutputStream().write(request);
      s.getOutputStream().flush();
      InputStream in = s.getInputStream();
      return in.readAllBytes();
    }
  }

  private Run launcher(Map<String, String> env, String... args) throws Exception {
    ProcessBuilder pb = LauncherProcess.command(args).directory(tmp.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("XDG_") || k.startsWith("CAIRN_"));
    pb.environment().put("HOME", home.toString());
    pb.environment().put(StoreService.LINGER_ENV, "1s");
    pb.environment().putAll(env);
    return LauncherProcess.run(pb);
  }



}
