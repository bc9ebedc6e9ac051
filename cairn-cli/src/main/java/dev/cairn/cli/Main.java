package dev.cairn.cli;

import picocli.CommandLine;

/**
 * Entry point of the {@code cairn} command. Builds the picocli command tree around an {@link
 * Invocation} and maps the outcome to an exit status: 0 ok, 1 error, 2 usage error.
 */
public final class Main {

  private Main() {}

  public static void main(String[] args) {
    System.exit(run(Invocation.ofSystem(), args));
  }

  /** Runs one command line against the given streams and environment; returns the exit status. */
  public static int run(Invocation invocation, String... args) {
    int status = commandLine(invocation).execute(args);
    invocation.flush();
    return status;
  }

  /** The configured command tree; exposed so tests can inspect usage text. */
  public static CommandLine commandLine(Invocation invocation) {
    FailureHandler failures = new FailureHandler(invocation);
    return new CommandLine(new CairnCommand(invocation))
        .setOut(invocation.out())
        .setErr(invocation.err())
        .setCaseInsensitiveEnumValuesAllowed(true)
        .setUsageHelpAutoWidth(true)
        .setExecutionExceptionHandler(failures)
        .setParameterExceptionHandler(failures);
  }
}
