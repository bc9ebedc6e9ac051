package dev.cairn.cli;

import java.io.File;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cairn service}: shows ({@code --status}) or stops ({@code --stop}) the store service of
 * a store ({@link StoreService}); without an option, runs one in the foreground until it has been
 * idle for its linger time, which is what {@code cairn import} and {@code export} start in the
 * background ({@link #startInBackground}) when none runs for their store.
 */
@Command(
    name = "service",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Show or stop the store's service, or run one in the foreground.",
      "The store service keeps the store open and runs the import, export and mount command"
          + " lines ./cairn sends it, so they start no JVM. 'cairn import' and 'cairn export'"
          + " start one in the background (unless " + ServiceCommand.SERVICE_ENV + "=off), a"
          + " mount's daemon is one; it exits once idle for " + StoreService.LINGER_ENV
          + " (default 5 minutes). Logs: $XDG_STATE_HOME/cairn/service.log.",
      "--status prints its pid, port and jar (exit 1 if none runs); --stop ends it (its mounts"
          + " are unmounted first) and waits until it has exited."
    })
final class ServiceCommand implements Callable<Integer> {

  /** {@code off} (or {@code 0}): import and export never start a service. */
  static final String SERVICE_ENV = "CAIRN_SERVICE";
  /** Set by the {@code ./cairn} launcher: its own path, which starts the service. */
  static final String LAUNCHER_ENV = "CAIRN_LAUNCHER";
  /** Locked by the background service of a store for its life, in the store directory. */
  static final String LOCK_FILE = "service.lock";

  @ParentCommand private CairnCommand cairn;
  @Spec private picocli.CommandLine.Model.CommandSpec spec;

  @picocli.CommandLine.Option(names = "--status",
      description = "Print whether a service runs for the store: pid, port and jar.")
  private boolean status;

  @picocli.CommandLine.Option(names = "--stop",
      description = "Stop the store's service (SIGTERM; it unmounts its mounts) and wait for it.")
  private boolean stop;

  @Override
  public Integer call() throws IOException, InterruptedException {
    cairn.requireLocal("service");
    Path store = cairn.storePath().toAbsolutePath().normalize();
    if (status && stop) {
      throw new ParameterException(spec.commandLine(), "--status and --stop exclude each other");
    }
    if (status || stop) {
      return statusOrStop(store);
    }
    Duration linger;
    try {
      linger = linger(cairn.invocation().env());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
    Files.createDirectories(store);
    // One background service per store: imports finishing together each start one, and all but
    // the first give up here, before the store's index is read. Held until this process exits.
    FileChannel lockFile = FileChannel.open(store.resolve(LOCK_FILE), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    if (lockFile.tryLock() == null || running(store)) {
      lockFile.close();
      cairn.invocation().err().println("cairn: a store service already runs (or starts) for "
          + store + "; 'cairn service --status' shows it");
      return 0;
    }
    LogFormat.install();
    StoreService service;
    try {
      service = StoreService.startForProcess(cairn.openStore(), cairn.serviceOptions(), linger);
    } catch (IOException | RuntimeException e) {
      lockFile.close();
      throw e;
    }
    try {
      return service.awaitExit();
    } finally {
      lockFile.close(); // referenced until here: an unreachable channel is closed by the GC
    }
  }

  /**
   * {@code --status} and {@code --stop}. A service counts as running only if it answers on its
   * port with the proof its file names: a stale file whose pid now belongs to another process
   * never gets that process signalled.
   */
  private int statusOrStop(Path store) throws IOException, InterruptedException {
    Invocation io = cairn.invocation();
    Map<String, String> file = rendezvous(store);
    Optional<ProcessHandle> live = file.isEmpty() || !answers(file)
        ? Optional.empty()
        : ProcessHandle.of(Long.parseLong(file.get("pid")));
    if (live.isEmpty()) {
      io.out().println("no store service for " + store);
      return stop ? 0 : 1;
    }
    long pid = live.get().pid();
    if (status) {
      io.out().println("store service for " + store + ": pid " + pid + ", 127.0.0.1:"
          + file.get("port") + ", jar " + file.getOrDefault("jar", "?"));
      return 0;
    }
    live.get().destroy(); // SIGTERM: unmounts every mount, then exits
    if (!live.get().onExit().completeOnTimeout(null, 60, java.util.concurrent.TimeUnit.SECONDS)
        .thenApply(p -> p != null).join()) {
      io.err().println("cairn: the store service (pid " + pid + ") did not exit within 60 s"
          + " of SIGTERM; see its log");
      return 1;
    }
    io.out().println("stopped the store service for " + store + " (pid " + pid + ")");
    return 0;
  }

  /** The rendezvous file's fields, or none if it is absent, not ours, or malformed. */
  private static Map<String, String> rendezvous(Path store) throws IOException {
    Path file = store.resolve(StoreService.FILE);
    Map<String, String> fields;
    try {
      if (!Files.getAttribute(file, "unix:uid", java.nio.file.LinkOption.NOFOLLOW_LINKS)
          .equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"))) {
        return Map.of(); // another user's file could name their own listener
      }
      fields = fields(file);
    } catch (NoSuchFileException e) {
      return Map.of();
    }
    boolean complete = fields.getOrDefault("port", "").matches("[0-9]{1,5}")
        && fields.getOrDefault("token", "").matches("[0-9a-f]{64}")
        && fields.getOrDefault("reply", "").matches("[0-9a-f]{64}")
        && fields.getOrDefault("pid", "").matches("[0-9]{1,10}");
    return complete ? fields : Map.of();
  }

  /** Whether the service named by the file answers with its proof (a request it declines). */
  private static boolean answers(Map<String, String> file) {
    try (java.net.Socket s = new java.net.Socket(java.net.InetAddress.getLoopbackAddress(),
        Integer.parseInt(file.get("port")))) {
      s.setSoTimeout(5_000);
      ServiceRequest probe = new ServiceRequest(file.get("token"), "/", Map.of(
          StoreService.CLIENT_PID_ENV, Long.toString(ProcessHandle.current().pid())),
          List.of("--version"));
      s.getOutputStream().write(probe.encode());
      byte[] expected = (file.get("reply") + "\0").getBytes(StandardCharsets.US_ASCII);
      byte[] got = s.getInputStream().readNBytes(expected.length);
      s.getOutputStream().write(ServiceRequest.GO); // answered "fallback", logged at INFO
      return java.security.MessageDigest.isEqual(expected, got);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** How long a service lingers once idle: {@value StoreService#LINGER_ENV}, else 5 minutes. */
  static Duration linger(Map<String, String> env) {
    String text = env.get(StoreService.LINGER_ENV);
    return text == null ? StoreService.DEFAULT_LINGER : StoreService.parseLinger(text);
  }

  /** The {@code name=value} lines of a rendezvous file. */
  private static Map<String, String> fields(Path file) throws IOException {
    Map<String, String> fields = new java.util.LinkedHashMap<>();
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        fields.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return fields;
  }

  /** Whether a live service's file is in {@code store}. */
  static boolean running(Path store) {
    try {
      String pid = fields(store.resolve(StoreService.FILE)).get("pid");
      return pid != null && ProcessHandle.of(Long.parseLong(pid))
          .map(ProcessHandle::isAlive).orElse(false);
    } catch (IOException | NumberFormatException e) {
      return false; // none (NoSuchFileException), or not one we can read
    }
  }

  /**
   * Starts {@code cairn service} for the command's store in the background, through the launcher
   * that ran this command, unless one runs already, this command ran in a service, works on a
   * remote, was not started by the launcher, or {@value #SERVICE_ENV} is {@code off}. Never
   * fails the command: a service that does not start only means the next command starts a JVM.
   */
  static void startInBackground(CairnCommand cairn) {
    Invocation io = cairn.invocation();
    String setting = io.env().getOrDefault(SERVICE_ENV, "on");
    String launcher = io.env().get(LAUNCHER_ENV);
    if (io.storeService().isPresent() || cairn.remote().isPresent() || launcher == null
        || setting.equals("off") || setting.equals("0") || !Path.of(launcher).isAbsolute()
        || !Files.isExecutable(Path.of(launcher))) {
      return;
    }
    Path store = cairn.storePath().toAbsolutePath().normalize();
    if (running(store)) {
      return;
    }
    List<String> command = new ArrayList<>();
    if (Files.isExecutable(Path.of("/usr/bin/setsid"))) {
      command.add("/usr/bin/setsid"); // out of the terminal's session: no SIGHUP/SIGINT from it
    }
    command.addAll(List.of(launcher, "--store", store.toString(), "--digest-function",
        cairn.digestFunction().name().toLowerCase(java.util.Locale.ROOT)));
    cairn.maxSize().ifPresent(n -> command.addAll(List.of("--max-size", Long.toString(n))));
    command.add("service");
    try {
      Path log = cairn.stateDirectory().resolve("service.log");
      ProcessBuilder pb = new ProcessBuilder(command)
          .directory(new File("/")) // keeps no file system busy while it lingers
          .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()));
      pb.environment().remove(MountCommand.DAEMON_ENV);
      pb.environment().put("CAIRN_NO_BUILD", "1"); // sources changed meanwhile: no build here
      pb.start();
    } catch (IOException | RuntimeException e) {
      System.getLogger("cairn").log(System.Logger.Level.DEBUG, "no store service started: "
          + e.getMessage());
    }
  }

}
