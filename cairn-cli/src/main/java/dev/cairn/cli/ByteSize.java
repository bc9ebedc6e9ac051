package dev.cairn.cli;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Locale;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Byte counts as people type and read them: {@code 123}, {@code 10K}, {@code 512MiB}, {@code 1.5GB}.
 *
 * <p>Every multiple is binary (K = KB = KiB = 1024), as {@code du} and {@code ls -h} use, because
 * store limits are compared with file sizes. A fraction is allowed with a unit and rounded to the
 * nearest byte; a bare count must be whole. Stateless.
 */
public final class ByteSize {

  private static final String UNITS = "KMGTPE";
  private static final BigDecimal MAX = BigDecimal.valueOf(Long.MAX_VALUE);

  private ByteSize() {}

  /**
   * Parses a size: a number, optionally a fraction, then optional spaces and a unit {@code B},
   * {@code K}/{@code KB}/{@code KiB}, ... up to {@code E}, in any letter case.
   *
   * @throws IllegalArgumentException naming the text, when it is not a size or exceeds 8 EiB
   */
  public static long parse(String text) {
    String s = text.strip();
    int end = 0;
    while (end < s.length() && (Character.isDigit(s.charAt(end)) || s.charAt(end) == '.')) {
      end++;
    }
    String number = s.substring(0, end);
    String unit = s.substring(end).strip().toUpperCase(Locale.ROOT);
    if (number.isEmpty() || number.startsWith(".") || number.endsWith(".")
        || number.indexOf('.') != number.lastIndexOf('.')) {
      throw invalid(text, "expected a number such as 123, 10K, 512MiB or 1.5GB");
    }
    int power = unitPower(unit);
    if (power < 0) {
      throw invalid(text, "unknown unit '" + s.substring(end).strip()
          + "' (use B, K, M, G, T, P or E, optionally followed by B or iB)");
    }
    BigDecimal value = new BigDecimal(number);
    if (power == 0 && value.stripTrailingZeros().scale() > 0) {
      throw invalid(text, "a byte count must be whole");
    }
    BigDecimal bytes = value.multiply(BigDecimal.valueOf(1024).pow(power))
        .setScale(0, RoundingMode.HALF_UP);
    if (bytes.compareTo(MAX) > 0) {
      throw invalid(text, "too large (the limit is 8 EiB)");
    }
    return bytes.longValueExact();
  }

  /** {@code 1.5 GiB}, {@code 512 KiB}, {@code 17 B}: three significant digits at most. */
  public static String format(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    int power = 0;
    double value = bytes;
    while (value >= 1023.5 && power < UNITS.length()) { // 1023.5 would print as 1024
      value /= 1024;
      power++;
    }
    String number = value >= 100
        ? String.format(Locale.ROOT, "%.0f", value)
        : value >= 10
            ? String.format(Locale.ROOT, "%.1f", value)
            : String.format(Locale.ROOT, "%.2f", value);
    if (number.contains(".")) {
      number = number.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
    return number + " " + UNITS.charAt(power - 1) + "iB";
  }

  /** The power of 1024 a unit stands for, or -1. */
  private static int unitPower(String unit) {
    if (unit.isEmpty() || unit.equals("B")) {
      return 0;
    }
    int power = UNITS.indexOf(unit.charAt(0));
    String rest = unit.substring(1);
    if (power < 0 || !(rest.isEmpty() || rest.equals("B") || rest.equals("IB"))) {
      return -1;
    }
    return power + 1;
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException("invalid size '" + text + "': " + why);
  }

  /** Lets picocli read {@code --max-size}; a bad size is a usage error. */
  public static final class Converter implements ITypeConverter<Long> {
    @Override
    public Long convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
