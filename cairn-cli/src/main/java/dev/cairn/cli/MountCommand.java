package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.core.ref.RefStore;
import dev.cairn.fuse.CairnMount;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.cas.CasFileSystem;
import dev.cairn.fuse.flush.FlushPolicy;
import dev.cairn.fuse.kernel.Mounter;
import dev.cairn.fuse.metrics.MountMetrics;
import dev.cairn.store.disk.DiskBlobStore;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
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
      "Mount a stored tree as a file system (FUSE): read-only, or copy-on-write with --writable.",
      "Files are read from the local store and cached by the kernel (see --reads);"
          + " with --remote, blobs missing locally are fetched on first use and verified.",
      "Returns once the mount is ready; the daemon serving it logs to"
          + " $XDG_STATE_HOME/cairn/mount<MOUNTPOINT, / as _>.log. Unmount with 'cairn umount MOUNTPOINT'.",
      "That daemon is also the store's service: later mounts, imports and exports of the same"
          + " store (same --store, --max-size, --digest-function) run in it, with no new JVM; once"
          + " it has no mount left it lingers $CAIRN_SERVICE_LINGER (default 5m; e.g. 0, 30s, 1h) and exits."
          + " <store>/service names it; SIGTERM to its pid unmounts its mounts and stops it."
    })
final class MountCommand implements Callable<Integer> {

  /** Set in the environment of the daemon a non-foreground mount starts. */
  static final String DAEMON_ENV = "CAIRN_MOUNT_DAEMON";
  private static final String READY = "cairn-mount-ready";

  @ParentCommand private CairnCommand cairn;
  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "DIGEST|ref:NAME",
      description = "Root digest of the tree (<hex>/<size>), or ref:NAME for a named tree"
          + " ('cairn ref'; looked up on --remote when given).")
  private String tree;

  @Parameters(index = "1", paramLabel = "MOUNTPOINT", description = "An existing directory.")
  private Path mountpoint;

  @Option(names = {"-f", "--foreground"},
      description = "Serve in this process until unmounted (Ctrl-C unmounts).")
  private boolean foreground;

  @Option(names = "--threads", paramLabel = "N", defaultValue = "2",
      description = "Threads reading FUSE requests (default: ${DEFAULT-VALUE}).")
  private int threads;

  @Option(names = {"-w", "--writable"},
      description = "Copy-on-write: changes live in a scratch area until captured"
          + " ('cairn capture MOUNTPOINT' prints the new root digest).")
  private boolean writable;

  @Option(names = "--capture-on-unmount",
      description = "Print the tree's final root digest when unmounted (on stdout with"
          + " --foreground, else in the log of the daemon or store service serving it).")
  private boolean captureOnUnmount;

  @Option(names = "--flush", paramLabel = "POLICY",
      description = "When to publish captures to --ref: on-unmount (the default with --ref),"
          + " on-close, interval:DURATION or idle:DURATION (e.g. idle:30s).")
  private String flush;

  @Option(names = "--ref", paramLabel = "NAME",
      description = "Ref a writable mount publishes its captures to: in the local store, or with"
          + " --remote on the server (the tree is uploaded first). Never clobbered: NAME.conflict-N"
          + " if it moved since the mount.")
  private String ref;

  @Option(names = "--track-access", paramLabel = "FILE",
      description = "Write the sorted paths opened, read-linked or listed to FILE at capture and"
          + " unmount (served by path: no passthrough).")
  private Path trackAccess;

  @Option(names = "--reads", paramLabel = "MODE",
      description = "How a read-only mount reads files: kernel-cache (default: the kernel opens"
          + " files by itself and caches their pages, no request per open; best for builds) or"
          + " passthrough (one request per open, then the kernel reads the store's file directly;"
          + " for streaming large files once).")
  private String reads;

  @Option(names = "--metrics-listen", paramLabel = "ADDR",
      description = "Serve Prometheus metrics on /metrics at PORT or HOST:PORT.")
  private String metricsListen;

  @Override
  public Integer call() throws Exception {
    if (threads < 1 || threads > 64) {
      throw new ParameterException(spec.commandLine(), "--threads must be between 1 and 64");
    }
    Path where = cairn.invocation().resolve(mountpoint).toAbsolutePath();
    if (!Files.isDirectory(where)) {
      throw new ParameterException(spec.commandLine(), "mount point " + mountpoint
          + " is not an existing directory");
    }
    if (captureOnUnmount && !writable) {
      throw new ParameterException(spec.commandLine(), "--capture-on-unmount needs --writable");
    }
    if (reads != null && writable) {
      throw new ParameterException(spec.commandLine(), "--reads is for read-only mounts");
    }
    Optional<String> refName = rootRef();
    Digest parsedRoot = refName.isPresent() ? null : parseDigest();
    // Checks the option combinations here, before a daemon starts; the serving process builds
    // the spec again with the resolved root and the opened ref store.
    mountSpec(parsedRoot != null ? parsedRoot : DigestFunction.SHA256.emptyDigest(),
        Optional.of(UNOPENED));
    Duration linger = linger();
    Optional<StoreService.Client> service = cairn.invocation().storeService();
    if (service.isPresent()) { // a client's request, run by a store service
      Optional<String> why = foreground
          ? Optional.of("--foreground serves in the caller's process")
          : cairn.serviceOptions().mismatch(service.get().service().options());
      if (why.isPresent()) {
        service.get().decline(why.get());
        return 0;
      }
      return service.get().service().host(where, captureOnUnmount,
          local -> open(local, where, refName, parsedRoot, System.nanoTime()));
    }
    boolean daemonChild = "1".equals(cairn.invocation().env().get(DAEMON_ENV));
    if (!foreground && !daemonChild) {
      return daemonize();
    }
    LogFormat.install();
    long opening = System.nanoTime();
    if (daemonChild) { // the daemon: serves this mount, and others as a store service
      StoreService mounts =
          StoreService.startForProcess(cairn.openStore(), cairn.serviceOptions(), linger);
      try {
        mounts.host(where, captureOnUnmount,
            store -> open(store, where, refName, parsedRoot, opening));
      } catch (Exception e) {
        mounts.shutdown();
        mounts.awaitExit();
        throw e;
      }
      cairn.invocation().out().println(READY);
      cairn.invocation().out().flush();
      return mounts.awaitExit();
    }
    try (DiskBlobStore local = cairn.openStore()) {
      Served served = open(local, where, refName, parsedRoot, opening);
      try {
        return serve(served.mount());
      } finally {
        served.closeResources();
      }
    }
  }

  /**
   * A mount being served and what it holds open besides the store: the remote and the refs,
   * closed after it is unmounted.
   */
  record Served(CairnMount mount, List<AutoCloseable> resources) {

    /** Closes the remote and the refs; failures are logged, as the mount is already gone. */
    void closeResources() {
      for (AutoCloseable r : resources.reversed()) {
        try {
          r.close();
        } catch (Exception e) {
          System.getLogger("cairn").log(System.Logger.Level.WARNING, "closing " + r + ": "
              + e.getMessage());
        }
      }
    }
  }

  /**
   * Opens the remote and refs this command names, resolves the root and mounts it at {@code
   * where} over {@code local}; returns once the mount is ready.
   */
  private Served open(DiskBlobStore local, Path where, Optional<String> refName, Digest parsedRoot,
      long opening) throws Exception {
    List<AutoCloseable> resources = new ArrayList<>();
    try {
      BlobStore remote = cairn.remote().map(cairn::connectRemote).orElse(null);
      if (remote != null) {
        resources.add(remote);
      }
      MountRefs refs = refName.isPresent() || ref != null // the asset index only if needed
          ? MountRefs.open(cairn, local, Optional.ofNullable(remote)) : null;
      if (refs != null) {
        resources.add(refs);
      }
      Digest root = parsedRoot;
      if (refName.isPresent()) {
        root = refs.store().get(refName.get()).orElseThrow(() -> new IOException("no ref '"
            + refName.get() + "' " + refs.where() + " (or its tree is no longer complete there)"));
        System.getLogger("cairn").log(System.Logger.Level.INFO, "ref:" + refName.get() + " is "
            + root);
      }
      try {
        MerkleCodec.parse(new BlobSource(local, Optional.ofNullable(remote)).bytes(root),
            "root " + root);
      } catch (dev.cairn.core.blob.BlobNotFoundException e) {
        throw new IOException("tree " + root + " is not in the store at " + cairn.storePath()
            + (remote == null ? " (import it, or give --remote URL)" : " nor on the remote"), e);
      }
      CairnMount.Spec mountSpec = mountSpec(root, where,
          Optional.ofNullable(refs).map(MountRefs::store));
      long mounting = System.nanoTime();
      CairnMount mount = CairnMount.start(local, Optional.ofNullable(remote), mountSpec);
      System.Logger log = System.getLogger("cairn");
      log.log(System.Logger.Level.INFO, String.format(java.util.Locale.ROOT,
          "%s: store opened in %d ms, mounted in %d ms", where, (mounting - opening) / 1_000_000,
          (System.nanoTime() - mounting) / 1_000_000));
      log.log(System.Logger.Level.INFO, "mounted " + tree + " at " + mount.fuse().mountpoint()
          + (writable ? " (writable" : " (read-only") + ", "
          + mount.readsDescription() + " reads, " + threads + " threads)");
      return new Served(mount, resources);
    } catch (Exception e) {
      new Served(null, resources).closeResources();
      throw e;
    }
  }

  /** How long a store service lingers once idle: {@value StoreService#LINGER_ENV}. */
  private Duration linger() {
    try {
      return ServiceCommand.linger(cairn.invocation().env());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  /** Stands in for the ref store while the options are checked; never used to serve. */
  private static final RefStore UNOPENED = new RefStore() {
    @Override
    public Optional<Digest> get(String name) {
      throw new IllegalStateException("ref store not opened");
    }

    @Override
    public void set(String name, Digest root) {
      throw new IllegalStateException("ref store not opened");
    }
  };

  private CairnMount.Spec mountSpec(Digest root, Optional<RefStore> refs) {
    return mountSpec(root, cairn.invocation().resolve(mountpoint), refs);
  }

  private CairnMount.Spec mountSpec(Digest root, Path where, Optional<RefStore> refs) {
    try {
      return new CairnMount.Spec(root, where, writable, threads,
          Optional.ofNullable(trackAccess)
              .map(p -> cairn.invocation().resolve(p).toAbsolutePath().normalize()),
          Optional.ofNullable(metricsListen).map(MountMetrics::parseListen),
          Optional.ofNullable(flush).or(() -> Optional.ofNullable(ref).map(r -> "on-unmount"))
              .map(FlushPolicy::parse),
          Optional.ofNullable(ref).map(RefStore::validate),
          refs,
          Mounter.Method.AUTO,
          parseReads());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private CasFileSystem.Reads parseReads() {
    if (reads == null) {
      return CairnMount.Spec.DEFAULT_READS;
    }
    return switch (reads) {
      case "kernel-cache" -> CasFileSystem.Reads.KERNEL_CACHE;
      case "passthrough" -> CasFileSystem.Reads.PASSTHROUGH;
      default -> throw new IllegalArgumentException("--reads: expected kernel-cache or passthrough,"
          + " got '" + reads + "'");
    };
  }

  /** The ref name of a {@code ref:NAME} argument, checked. */
  private Optional<String> rootRef() {
    if (!tree.startsWith("ref:")) {
      return Optional.empty();
    }
    try {
      return Optional.of(RefStore.validate(tree.substring(4)));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private Digest parseDigest() {
    try {
      return Digest.parse(tree);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for DIGEST: " + e.getMessage());
    }
  }

  /** Serves in the foreground until unmounted from outside, or SIGINT/SIGTERM (which unmount). */
  private int serve(CairnMount mount) throws Exception {
    CountDownLatch done = new CountDownLatch(1);
    System.Logger log = System.getLogger("cairn");
    Runnable stop = () -> {
      try {
        mount.unmount();
      } catch (IOException e) {
        log.log(System.Logger.Level.ERROR, "unmounting " + mountpoint + " failed: " + e.getMessage());
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
      stop.run(); // final flush, access log, scratch cleanup
    });
    done.await();
    Digest last = mount.unmount();
    if (captureOnUnmount) {
      log.log(System.Logger.Level.INFO, "final root digest " + last);
      cairn.invocation().out().println(last);
      cairn.invocation().out().flush();
    }
    if (mount.fuse().session().failure() != null) {
      throw new IOException("FUSE session failed: " + mount.fuse().session().failure());
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
    String name = mountpoint.toAbsolutePath().normalize().toString().replaceAll("[^A-Za-z0-9._-]", "_");
    return cairn.stateDirectory().resolve("mount" + name + ".log");
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
