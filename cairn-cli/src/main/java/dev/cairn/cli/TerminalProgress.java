package dev.cairn.cli;

import dev.cairn.core.tree.Progress;
import java.io.PrintStream;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Shows a tree operation's {@link Progress} as a bar on a terminal: bytes done of the total, speed,
 * files done in the message. Used only when a person watches ({@link Invocation#interactive()}),
 * so scripts and pipes see nothing. Thread-safe: workers report concurrently.
 */
final class TerminalProgress implements Progress {

  private final PrintStream stream;
  private final int width;
  private ProgressBar bar;
  private long files;
  private long filesDone;
  /** Bytes of the files done before {@link #start} (an import hashes while it still walks). */
  private long bytesBeforeStart;

  /** A bar as wide as the terminal. */
  TerminalProgress(PrintStream stream) {
    this(stream, 0);
  }

  /** A bar of {@code width} columns; 0 asks the terminal. */
  TerminalProgress(PrintStream stream, int width) {
    this.stream = Objects.requireNonNull(stream, "stream");
    this.width = width;
  }

  /** A bar on the invocation's terminal when it is interactive, else {@link Progress#NONE}. */
  static Progress forInvocation(Invocation invocation) {
    return invocation.interactive()
        ? new TerminalProgress(invocation.progressStream(), invocation.progressColumns())
        : Progress.NONE;
  }

  @Override
  public synchronized void start(String task, long files, long bytes) {
    this.files = files;
    this.bar = new ProgressBarBuilder()
        .setTaskName(task)
        .setInitialMax(bytes)
        .setUnit(" MiB", 1 << 20)
        .setStyle(ProgressBarStyle.COLORFUL_UNICODE_BLOCK)
        .setConsumer(width > 0
            ? new ConsoleProgressBarConsumer(stream, width)
            : new ConsoleProgressBarConsumer(stream))
        .setUpdateIntervalMillis(100)
        .showSpeed()
        .build();
    bar.stepTo(bytesBeforeStart);
    bar.setExtraMessage(message());
  }

  @Override
  public synchronized void advance(long bytes) {
    filesDone++;
    if (bar != null) {
      bar.stepBy(bytes);
      bar.setExtraMessage(message());
    } else {
      bytesBeforeStart += bytes;
    }
  }

  @Override
  public synchronized void finish() {
    if (bar != null) {
      bar.close();
      bar = null;
    }
  }

  private String message() {
    return " " + filesDone + "/" + files + " files";
  }
}
