package dev.cairn.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One line per log record on stderr, {@code 2026-11-22T03:04:05.678Z INFO message}, for the
 * long-running commands; the JDK's default spreads each record over two lines.
 */
final class LogFormat extends Formatter {
  private LogFormat() {}

  static void install() {
    LogManager.getLogManager().reset();
    ConsoleHandler handler = new ConsoleHandler();
    handler.setFormatter(new LogFormat());
    handler.setLevel(Level.INFO);
    Logger root = Logger.getLogger("");
    root.addHandler(handler);
    root.setLevel(Level.INFO);
    // gRPC's own INFO chatter is not for operators.
    Logger.getLogger("io.grpc").setLevel(Level.WARNING);
  }

  @Override
  public String format(LogRecord r) {
    StringBuilder b = new StringBuilder()
        .append(r.getInstant()).append(' ')
        .append(r.getLevel().getName()).append(' ')
        .append(formatMessage(r));
    if (r.getThrown() != null) {
      b.append(": ").append(r.getThrown());
    }
    return b.append(System.lineSeparator()).toString();
  }
}
