package dev.cairn.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import picocli.CommandLine;

/**
 * Entry point of the {@code cairn} command. Builds the picocli command tree around an {@link
 * Invocation} and maps the outcome to an exit status: 0 ok, 1 error, 2 usage error.
 *
 * <p>Only the subcommand named on the command line is registered with picocli (all of them when
 * help or an unknown name needs the full list): picocli reflects over every registered command
 * at startup, and {@code cairn} is run often enough that those milliseconds matter.
 */
public final class Main {

  /** Every subcommand, in the order help lists them. */
  private static final Map<String, Supplier<Object>> SUBCOMMANDS = new LinkedHashMap<>();

  static {
    SUBCOMMANDS.put("serve", ServeCommand::new);
    SUBCOMMANDS.put("put", PutCommand::new);
    SUBCOMMANDS.put("cat", CatCommand::new);
    SUBCOMMANDS.put("import", ImportCommand::new);
    SUBCOMMANDS.put("export", ExportCommand::new);
    SUBCOMMANDS.put("ls", LsCommand::new);
    SUBCOMMANDS.put("tree", TreeCommand::new);
    SUBCOMMANDS.put("edit", EditCommand::new);
    SUBCOMMANDS.put("diff", DiffCommand::new);
    SUBCOMMANDS.put("stat", StatCommand::new);
    SUBCOMMANDS.put("fetch", FetchCommand::new);
    SUBCOMMANDS.put("ref", RefCommand::new);
    SUBCOMMANDS.put("gc", GcCommand::new);
    SUBCOMMANDS.put("mount", MountCommand::new);
    SUBCOMMANDS.put("umount", UmountCommand::new);
    SUBCOMMANDS.put("capture", CaptureCommand::new);
    SUBCOMMANDS.put("service", ServiceCommand::new);
  }

  /** Global options that take a value as the next argument. */
  private static final Set<String> OPTIONS_WITH_VALUE =
      Set.of("--store", "--max-size", "--digest-function", "--remote");

  private Main() {}

  public static void main(String[] args) {
    if (System.getProperty("jdk.httpclient.bufsize") == null) {
      // The JDK HTTP client reads responses in 16 KiB buffers by default; with 256 KiB a
      // server-side source download (Remote Asset FetchBlob) took 0.41 s instead of 0.93 s for
      // 100 MiB on loopback (bench/asset/collapse.sh). Read once, when the client is first used.
      System.setProperty("jdk.httpclient.bufsize", Integer.toString(256 * 1024));
    }
    System.exit(run(Invocation.ofSystem(), args));
  }

  /** Runs one command line against the given streams and environment; returns the exit status. */
  public static int run(Invocation invocation, String... args) {
    if (args.length == 1 && (args[0].equals("--version") || args[0].equals("-V"))) {
      // Scripts and build tools probe for cairn this way; answering before picocli loads makes
      // it cost no more than starting the JVM. The answer is the one picocli would print.
      invocation.out().println(new VersionProvider().getVersion()[0]);
      invocation.flush();
      return 0;
    }
    int status = commandLine(invocation, args).execute(args);
    invocation.flush();
    return status;
  }

  /** The command tree with every subcommand; for tests and documentation. */
  public static CommandLine commandLine(Invocation invocation) {
    return configure(withSubcommands(invocation, SUBCOMMANDS.keySet()), invocation);
  }

  /** The command tree that {@code args} needs: only the subcommand they name, if they name one. */
  static CommandLine commandLine(Invocation invocation, String... args) {
    String name = subcommandName(args);
    Set<String> names;
    if (name != null && SUBCOMMANDS.containsKey(name)) {
      names = Set.of(name);
    } else if (name == null && !asksForHelp(args)) {
      names = Set.of();
    } else {
      names = SUBCOMMANDS.keySet(); // help lists them all; a typo gets suggestions from them all
    }
    return configure(withSubcommands(invocation, names), invocation);
  }

  /** The first argument that is neither an option nor a global option's value, or null. */
  static String subcommandName(String... args) {
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (OPTIONS_WITH_VALUE.contains(arg)) {
        i++;
      } else if (arg.equals("--")) {
        return i + 1 < args.length ? args[i + 1] : null;
      } else if (!arg.startsWith("-")) {
        return arg;
      }
    }
    return null;
  }

  private static boolean asksForHelp(String... args) {
    for (String arg : args) {
      if (arg.equals("-h") || arg.equals("--help")) {
        return true;
      }
    }
    return false;
  }

  private static CommandLine withSubcommands(Invocation invocation, Set<String> names) {
    CommandLine cmd = new CommandLine(new CairnCommand(invocation));
    SUBCOMMANDS.forEach((name, command) -> {
      if (names.contains(name)) {
        cmd.addSubcommand(name, command.get());
      }
    });
    return cmd;
  }

  /** Settings apply to the subcommands present, so subcommands must be added before this. */
  private static CommandLine configure(CommandLine cmd, Invocation invocation) {
    FailureHandler failures = new FailureHandler(invocation);
    return cmd
        .setOut(invocation.out())
        .setErr(invocation.err())
        .setUsageHelpAutoWidth(true)
        .setColorScheme(CommandLine.Help.defaultColorScheme(
            invocation.colors() ? CommandLine.Help.Ansi.ON : CommandLine.Help.Ansi.OFF))
        .setExecutionExceptionHandler(failures)
        .setParameterExceptionHandler(failures);
  }
}
