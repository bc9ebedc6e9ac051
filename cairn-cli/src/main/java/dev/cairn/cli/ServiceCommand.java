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
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cairn service}: runs the store service ({@link StoreService}) in the foreground until it
 * has been idle for its linger time. Not for people: {@code cairn import} and {@code export}
 * start it in the background ({@link #startInBackground}) when none runs for their store, so that
 * the next such command is answered by a warm process.
 */
@Command(
    name = "service",
    hidden = true,
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Keep the store open and run import, export and mount command lines for the ./cairn"
          + " launcher, until idle for " + StoreService.LINGER_ENV + " (default 5 minutes).",
      "Started in the background by 'cairn import' and 'cairn export' (unless "
          + ServiceCommand.SERVICE_ENV + "=off); logs to $XDG_STATE_HOME/cairn/service.log."
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

  @Override
  public Integer call() throws IOException, InterruptedException {
    cairn.requireLocal("service");
    Path store = cairn.storePath().toAbsolutePath().normalize();
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

  /** How long a service lingers once idle: {@value StoreService#LINGER_ENV}, else 5 minutes. */
  static Duration linger(Map<String, String> env) {
    String text = env.get(StoreService.LINGER_ENV);
    return text == null ? StoreService.DEFAULT_LINGER : StoreService.parseLinger(text);
  }

  /** Whether a live service's file is in {@code store}. */
  static boolean running(Path store) {
    try {
      for (String line : Files.readAllLines(store.resolve(StoreService.FILE),
          StandardCharsets.US_ASCII)) {
        if (line.startsWith("pid=")) {
          return ProcessHandle.of(Long.parseLong(line.substring(4)))
              .map(ProcessHandle::isAlive).orElse(false);
        }
      }
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException | NumberFormatException e) {
      return false;
    }
    return false;
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
      Path log = logFile(io.env());
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

  /** The service's log: {@code $XDG_STATE_HOME/cairn/service.log} (or under ~/.local/state). */
  private static Path logFile(Map<String, String> env) throws IOException {
    String state = env.get("XDG_STATE_HOME");
    Path dir = state != null && Path.of(state).isAbsolute()
        ? Path.of(state, "cairn")
        : Path.of(env.getOrDefault("HOME", System.getProperty("user.home")), ".local", "state",
            "cairn");
    Files.createDirectories(dir);
    return dir.resolve("service.log");
  }
}
