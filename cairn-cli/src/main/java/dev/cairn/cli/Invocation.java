package dev.cairn.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.function.BooleanSupplier;

/**
 * One run of the {@code cairn} command: its standard output (bytes for {@code cat}, UTF-8 text for
 * everything else), its standard error, its environment, and whether a person is watching.
 *
 * <p>Commands never touch {@code System.out}, {@code System.getenv} or the console directly, so
 * that tests run them in-process with captured streams and a chosen environment. Not thread-safe:
 * commands write from the thread that runs them.
 */
public final class Invocation {

  private final OutputStream stdout;
  private final PrintWriter out;
  private final PrintWriter err;
  private final PrintStream errStream;
  private final Map<String, String> env;
  private final BooleanSupplier interactive;
  private final boolean colors;
  private final Path cwd; // null: this process's own working directory
  private final StoreService.Client storeService; // null unless a store service runs this command
  private final PrintStream progress; // where progress bars go: stderr, or a service's client
  private final int progressColumns; // the bar's width; 0: ask the terminal
  private Boolean interactiveAnswer;

  /**
   * @param stdout where command output goes, bytes as they are
   * @param stderr where messages and progress bars go
   * @param env the environment variables ({@code XDG_CACHE_HOME}, {@code HOME}, ...)
   * @param interactive whether stdout and stderr are terminals (progress bars are shown only then)
   */
  public Invocation(
      OutputStream stdout, PrintStream stderr, Map<String, String> env, boolean interactive) {
    this(stdout, stderr, env, () -> interactive, false, null, null, stderr, 0);
  }

  /**
   * A command line a client sent to the {@link StoreService}: run in the service's process, but
   * with the client's working directory and environment, and its output captured for the reply.
   *
   * @param progress where progress bars go while the command runs, if the client's stdout and
   *     stderr are terminals {@code progressColumns} wide; null when they are not
   */
  Invocation(OutputStream stdout, PrintStream stderr, Map<String, String> env, Path cwd,
      StoreService.Client storeService, PrintStream progress, int progressColumns) {
    this(stdout, stderr, env, () -> progress != null, false, Objects.requireNonNull(cwd, "cwd"),
        Objects.requireNonNull(storeService, "storeService"),
        progress == null ? stderr : progress, progressColumns);
    if (!cwd.isAbsolute()) {
      throw new IllegalArgumentException("working directory " + cwd + " is not absolute");
    }
  }

  private Invocation(
      OutputStream stdout, PrintStream stderr, Map<String, String> env,
      BooleanSupplier interactive, boolean colors, Path cwd, StoreService.Client storeService,
      PrintStream progress, int progressColumns) {
    this.stdout = new StdoutStream(Objects.requireNonNull(stdout, "stdout"));
    this.out = new PrintWriter(new OutputStreamWriter(this.stdout, StandardCharsets.UTF_8), false);
    this.errStream = Objects.requireNonNull(stderr, "stderr");
    this.err = new PrintWriter(new OutputStreamWriter(stderr, StandardCharsets.UTF_8), true);
    this.env = Map.copyOf(env);
    this.interactive = Objects.requireNonNull(interactive, "interactive");
    this.colors = colors;
    this.cwd = cwd;
    this.storeService = storeService;
    this.progress = Objects.requireNonNull(progress, "progress");
    this.progressColumns = progressColumns;
  }

  /**
   * The process's own streams and environment. Whether they are terminals is asked only when a
   * command needs to know: {@link System#console()} alone costs tens of milliseconds at startup.
   */
  public static Invocation ofSystem() {
    Map<String, String> env = System.getenv();
    boolean colors = !env.containsKey("NO_COLOR") && isTerminal(1).orElse(false);
    return new Invocation(
        new FileOutputStream(FileDescriptor.out), System.err, env,
        Invocation::stdoutAndStderrAreTerminals, colors, null, null, System.err, 0);
  }

  /**
   * A path from the command line as the caller meant it: a relative one is relative to the
   * caller's working directory, which is not this process's when a store service runs the
   * command for a client. Unchanged when the caller is this process.
   */
  public Path resolve(Path path) {
    return cwd == null ? path : cwd.resolve(path);
  }

  /** The store service running this command for a client, if one is. */
  java.util.Optional<StoreService.Client> storeService() {
    return java.util.Optional.ofNullable(storeService);
  }

  /** Raw standard output, for blob bytes. Flush {@link #out()} before writing here. */
  public OutputStream stdout() {
    return stdout;
  }

  /** Standard output as UTF-8 text (tree names are UTF-8 whatever the locale says). */
  public PrintWriter out() {
    return out;
  }

  public PrintWriter err() {
    return err;
  }

  /** Standard error as a stream, for the progress bar library. */
  public PrintStream errStream() {
    return errStream;
  }

  /** Where progress bars go: standard error, or the terminal of the client a service runs for. */
  PrintStream progressStream() {
    return progress;
  }

  /** How wide progress bars are: 0 asks the terminal (this process's own). */
  int progressColumns() {
    return progressColumns;
  }

  public Map<String, String> env() {
    return env;
  }

  /** Whether stdout and stderr are both terminals, i.e. a person watches; asked once. */
  public boolean interactive() {
    if (interactiveAnswer == null) {
      interactiveAnswer = interactive.getAsBoolean();
    }
    return interactiveAnswer;
  }

  /** Whether usage help may use ANSI colors: stdout is a terminal and NO_COLOR is not set. */
  public boolean colors() {
    return colors;
  }

  /** Flushes both outputs; a closed stdout (a reader that went away) is not reported twice. */
  public void flush() {
    out.flush();
    err.flush();
  }

  /**
   * Whether stdout and stderr are both terminals: {@code System.console().isTerminal()} answers
   * for stdout (and stdin); stderr is checked through {@code /proc} where there is one.
   */
  private static boolean stdoutAndStderrAreTerminals() {
    java.io.Console console = System.console();
    return console != null && console.isTerminal() && isTerminal(2).orElse(true);
  }

  /** Whether file descriptor {@code fd} is a terminal, if {@code /proc} can tell. */
  private static java.util.Optional<Boolean> isTerminal(int fd) {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd)).toString();
      return java.util.Optional.of(target.startsWith("/dev/pts/") || target.startsWith("/dev/tty"));
    } catch (IOException | UnsupportedOperationException e) {
      return java.util.Optional.empty();
    }
  }

  /** Marks write failures on stdout, so a reader that quits early is not reported as our error. */
  static final class StdoutClosedException extends IOException {
    StdoutClosedException(IOException cause) {
      super("standard output: " + cause.getMessage(), cause);
    }
  }

  private static final class StdoutStream extends FilterOutputStream {
    StdoutStream(OutputStream out) {
      super(out);
    }

    @Override
    public void write(int b) throws IOException {
      try {
        out.write(b);
      } catch (IOException e) {
        throw new StdoutClosedException(e);
      }
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      try {
        out.write(b, off, len);
      } catch (IOException e) {
        throw new StdoutClosedException(e);
      }
    }

    @Override
    public void flush() throws IOException {
      try {
        out.flush();
      } catch (IOException e) {
        throw new StdoutClosedException(e);
      }
    }
  }
}
