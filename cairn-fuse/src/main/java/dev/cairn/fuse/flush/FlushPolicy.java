package dev.cairn.fuse.flush;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a long-lived writable mount captures its tree and publishes the digest to its ref
 * ({@code --flush}). Every policy also flushes once more at unmount, so nothing written is lost
 * by choosing a lazy one.
 */
public sealed interface FlushPolicy {

  /** Only at unmount. */
  record OnUnmount() implements FlushPolicy {
    @Override
    public String toString() {
      return "on-unmount";
    }
  }

  /** Each time a file written through the mount is closed (coalesced while a flush runs). */
  record OnClose() implements FlushPolicy {
    @Override
    public String toString() {
      return "on-close";
    }
  }

  /** Every {@code period}, if the tree changed. */
  record Interval(Duration period) implements FlushPolicy {
    public Interval {
      requirePositive(period, "interval");
    }

    @Override
    public String toString() {
      return "interval:" + format(period);
    }
  }

  /** Once writes have paused for {@code quiet}. */
  record Idle(Duration quiet) implements FlushPolicy {
    public Idle {
      requirePositive(quiet, "idle");
    }

    @Override
    public String toString() {
      return "idle:" + format(quiet);
    }
  }

  /**
   * Parses {@code on-unmount}, {@code on-close}, {@code interval:DURATION} or {@code
   * idle:DURATION}; a duration is a positive whole number with a unit ({@code 500ms}, {@code 30s},
   * {@code 5m}, {@code 1h}, {@code 1d}) or ISO-8601 ({@code PT30S}).
   *
   * @throws IllegalArgumentException naming the text and what is accepted
   */
  static FlushPolicy parse(String text) {
    Objects.requireNonNull(text, "flush policy");
    String t = text.trim();
    switch (t) {
      case "on-unmount":
        return new OnUnmount();
      case "on-close":
        return new OnClose();
      default:
        break;
    }
    int colon = t.indexOf(':');
    if (colon > 0) {
      String kind = t.substring(0, colon);
      String value = t.substring(colon + 1);
      if (kind.equals("interval")) {
        return new Interval(parseDuration(value, text));
      }
      if (kind.equals("idle")) {
        return new Idle(parseDuration(value, text));
      }
    }
    throw new IllegalArgumentException("flush policy '" + text
        + "': expected on-unmount, on-close, interval:DURATION or idle:DURATION"
        + " (DURATION like 30s, 5m, 1h or PT30S)");
  }

  /** {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, {@code 1d} or ISO-8601; positive. */
  static Duration parseDuration(String value, String context) {
    Matcher m = Units.SHORT.matcher(value);
    Duration d;
    if (m.matches()) {
      try {
        long n = Long.parseLong(m.group(1));
        d = switch (m.group(2)) {
          case "ms" -> Duration.ofMillis(n);
          case "s" -> Duration.ofSeconds(n);
          case "m" -> Duration.ofMinutes(n);
          case "h" -> Duration.ofHours(n);
          default -> Duration.ofDays(n);
        };
      } catch (ArithmeticException | NumberFormatException e) {
        throw new IllegalArgumentException("flush policy '" + context + "': duration '" + value
            + "' is too large");
      }
    } else if (value.toUpperCase(Locale.ROOT).startsWith("P")) {
      try {
        d = Duration.parse(value.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("flush policy '" + context + "': '" + value
            + "' is not an ISO-8601 duration such as PT30S");
      }
    } else {
      throw new IllegalArgumentException("flush policy '" + context + "': duration '" + value
          + "' needs a unit (ms, s, m, h, d), e.g. 30s, or ISO-8601 such as PT30S");
    }
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException("flush policy '" + context + "': duration must be positive");
    }
    return d;
  }

  private static void requirePositive(Duration d, String what) {
    Objects.requireNonNull(d, what);
    if (d.isZero() || d.isNegative()) {
      throw new IllegalArgumentException(what + " must be positive, got " + d);
    }
  }

  /** The shortest text {@link #parse} reads back as {@code d}. */
  private static String format(Duration d) {
    if (d.toMillisPart() != 0 || d.toNanosPart() % 1_000_000 != 0) {
      return d.toNanosPart() % 1_000_000 == 0 ? d.toMillis() + "ms" : d.toString();
    }
    long s = d.toSeconds();
    if (s % 86400 == 0) {
      return s / 86400 + "d";
    } else if (s % 3600 == 0) {
      return s / 3600 + "h";
    } else if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }
}

/** Holder for the short-duration pattern (interfaces cannot have private static fields). */
final class Units {
  static final Pattern SHORT = Pattern.compile("(\\d{1,18})(ms|s|m|h|d)");

  private Units() {}
}
