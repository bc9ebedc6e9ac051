package dev.cairn.fuse;

import java.lang.System.Logger;
import java.util.List;
import java.util.ResourceBundle;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/** A {@link Logger} that keeps what it is given, so tests can read the warnings. */
public final class RecordingLogger implements Logger {
  /** One logged message. */
  public record Line(Level level, String message, Throwable thrown) {}

  public final List<Line> lines = new CopyOnWriteArrayList<>();

  public List<String> at(Level level) {
    return lines.stream().filter(l -> l.level() == level).map(Line::message).toList();
  }

  @Override
  public String getName() {
    return "recording";
  }

  @Override
  public boolean isLoggable(Level level) {
    return true;
  }

  @Override
  public void log(Level level, ResourceBundle bundle, String msg, Throwable thrown) {
    lines.add(new Line(level, msg, thrown));
  }

  @Override
  public void log(Level level, ResourceBundle bundle, String format, Object... params) {
    lines.add(new Line(level, params == null || params.length == 0
        ? format : java.text.MessageFormat.format(format, params), null));
  }

  @Override
  public void log(Level level, Supplier<String> msgSupplier) {
    lines.add(new Line(level, msgSupplier.get(), null));
  }
}
