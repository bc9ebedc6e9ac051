package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.fuse.FuseMount;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.cas.CasFileSystem;
import dev.cairn.fuse.kernel.Native;
import dev.cairn.store.disk.DiskBlobStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cairn mount DIGEST MOUNTPOINT}: shows a stored tree as a live file system, with no
 * staging. Without {@code --foreground} it starts itself again as a detached daemon and returns
 * once the mount is ready, so scripts can use the tree on the next line.
 */
@Command(
    name = "mount",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Mount a stored tree as a read-only file system (FUSE).",
      "Files are read straight from the local store (kernel passthrough when run as root);"
          + " with --remote, blobs missing locally are fetched on first use and verified.",
      "Returns once the mount is ready; the daemon serving it logs to"
          + " $XDG_STATE_HOME/cairn/mount-*.log. Unmount with 'cairn umount MOUNTPOINT'."
    })
final class MountCommand implements Callable<Integer> {

  /** Set in the environment of the daemon a non-foreground mount starts. */
  static final String DAEMON_ENV = "CAIRN_MOUNT_DAEMON";
  private static final String READY = "cairn-mount-ready";

  @ParentCommand private CairnCommand cairn;
  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIGEST|ref:NAME",
      description = "Root digest of the tree (<hex>/<size>), or ref:NAME for a named tree.")
  private String tree;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing directory.")
  private Path mountpoint;

  @Option(names = {"-f", "--foreground"},
      description = "Serve in this process until unmounted (Ctrl-C unmounts).")
  private boolean foreground;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
      description = "Threads reading FUSE requests (default: ${DEFAULT-VALUE}).")
  private int threads;

  @Override
  public Integer call() throws Exception {
    Digest root = resolveRoot();
    if (threads < 1 || threads > 64) {
      throw new ParameterException(spec.commandLine(), "--threads must be between 1 and 64");
    }
    if (!Files.isDirectory(mountpoint)) {
      throw new ParameterException(spec.commandLine(), "mount point " + mountpoint
          + " is not an existing directory");
    }
    boolean daemonChild = "1".equals(cairn.invocation().env().get(DAEMON_ENV));
    if (!foreground && !daemonChild) {
      return daemonize();
    }
    LogFormat.install();
    try (DiskBlobStore local = cairn.openStore();
        BlobStore remote = cairn.remoteUrl().map(cairn::connectRemote).orElse(null)) {
      BlobSource blobs = new BlobSource(local, Optional.ofNullable(remote));
      try {
        MerkleCodec.parse(blobs.bytes(root), "root " + root);
      } catch (dev.cairn.core.blob.BlobNotFoundException e) {
        throw new IOException("tree " + root + " is not in the store at " + cairn.storePath()
            + (remote == null ? " (import it, or give --remote URL)" : " nor on the remote"), e);
      }
      CasFileSystem fs = new CasFileSystem(blobs, root, Native.getuid(), Native.getgid(),
          Instant.now().getEpochSecond());
      FuseMount mount = FuseMount.mount(mountpoint, fs, FuseMount.Config.of(threads, true));
      return serve(mount, daemonChild);
    }
  }

  private Digest resolveRoot() {
    if (tree.startsWith("ref:")) {
      String name = tree.substring(4);
      try {
        dev.cairn.core.ref.RefStore.validate(name);
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
      throw new ParameterException(spec.commandLine(), "cannot resolve ref:" + name
          + ": refs need the asset index, which this build does not have yet; mount by digest");
    }
    try {
      return Digest.parse(tree);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for DIGEST: " + e.getMessage());
    }
  }

  /** Serves until unmounted from outside, or SIGINT/SIGTERM (which unmount). */
  private int serve(FuseMount mount, boolean daemonChild) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    AtomicBoolean closed = new AtomicBoolean();
    Runnable stop = () -> {
      if (closed.compareAndSet(false, true)) {
        try {
          mount.close();
        } catch (IOException e) {
          System.getLogger("cairn").log(System.Logger.Level.ERROR,
              "unmounting " + mount.mountpoint() + " failed: " + e.getMessage());
        }
      }
      done.countDown();
    };
    for (String name : List.of("TERM", "INT", "HUP")) {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> Thread.ofPlatform().start(stop));
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(stop));
    Thread.ofPlatform().daemon(true).start(() -> {
      try {
        mount.awaitUnmount(); // unmounted from outside (cairn umount, umount, fusermount3 -u)
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      closed.set(true);
      done.countDown();
    });
    System.getLogger("cairn").log(System.Logger.Level.INFO, "mounted " + tree + " at "
        + mount.mountpoint() + " (" + (mount.connection().passthrough() ? "passthrough" : "cached")
        + " reads, " + threads + " threads)");
    if (daemonChild) {
      cairn.invocation().out().println(READY);
      cairn.invocation().out().flush();
    }
    done.await();
    if (mount.session().failure() != null) {
      throw new IOException("FUSE session failed: " + mount.session().failure());
    }
    return 0;
  }

  /**
   * Starts this same command line again with {@code --foreground}, detached (its own session,
   * stdin from /dev/null, stderr to a log file), and waits until it reports the mount ready.
   */
  private int daemonize() throws IOException, InterruptedException {
    ProcessHandle.Info info = ProcessHandle.current().info();
    Optional<String> java = info.command();
    Optional<String[]> args = info.arguments();
    if (java.isEmpty() || args.isEmpty()) {
      throw new IOException("cannot start the mount daemon: this process's command line is"
          + " unknown; run with --foreground");
    }
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid"); // out of the terminal's session: no SIGHUP/SIGINT from it
    }
    command.add(java.get());
    command.addAll(List.of(args.get()));
    command.add("--foreground");
    Path log = logFile();
    ProcessBuilder pb = new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
        .redirectError(ProcessBuilder.Redirect.to(log.toFile()))
        .redirectOutput(ProcessBuilder.Redirect.PIPE);
    pb.environment().put(DAEMON_ENV, "1");
    Process child = pb.start();
    String line;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      line = out.readLine(); // the daemon prints READY once mounted, or exits
    }
    if (READY.equals(line)) {
      return 0;
    }
    child.waitFor(10, TimeUnit.SECONDS);
    String tail = lastLines(log, 5);
    throw new IOException("mount daemon failed" + (child.isAlive() ? "" : " (exit status "
        + child.exitValue() + ")") + "; log " + log + (tail.isEmpty() ? "" : ":\n" + tail));
  }

  private Path logFile() throws IOException {
    var env = cairn.invocation().env();
    String state = env.get("XDG_STATE_HOME");
    Path dir = state != null && Path.of(state).isAbsolute()
        ? Path.of(state, "cairn")
        : Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".local", "state", "cairn");
    Files.createDirectories(dir);
    String name = mountpoint.toAbsolutePath().normalize().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    return dir.resolve("mount" + name + ".log");
  }

  private static String lastLines(Path file, int n) {
    try {
      List<String> lines = Files.readAllLines(file);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - n), lines.size()));
    } catch (IOException e) {
      return "";
    }
  }
}
