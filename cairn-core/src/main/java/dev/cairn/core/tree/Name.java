package dev.cairn.core.tree;

import java.util.Comparator;
import java.util.Objects;

/**
 * One path component of a tree: never empty, {@code .} or {@code ..}, never containing {@code /}
 * or NUL, always encodable as UTF-8. Holding a {@code Name} means it cannot lead out of its
 * directory. Names order by their UTF-8 bytes, the order REAPI's canonical Directory requires.
 */
public record Name(String value) implements Comparable<Name> {

  /**
   * Compares strings by their UTF-8 encoding, byte by byte. This equals code point order, which
   * differs from {@link String#compareTo} (UTF-16 units) for characters outside the BMP.
   */
  public static final Comparator<String> UTF8_ORDER = Name::compareUtf8;

  public Name {
    String problem = problem(value);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
  }

  /** Why {@code value} is not a valid name, or null if it is. */
  public static String problem(String value) {
    if (value == null) {
      return "name is null";
    }
    if (value.isEmpty()) {
      return "invalid name: empty";
    }
    if (value.equals(".") || value.equals("..")) {
      return "invalid name '" + value + "': not allowed as a path component";
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '/') {
        return "invalid name '" + printable(value) + "': contains '/'";
      }
      if (c == 0) {
        return "invalid name '" + printable(value) + "': contains NUL";
      }
      if (Character.isHighSurrogate(c)) {
        if (i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
          i++;
        } else {
          return "invalid name '" + printable(value) + "': not valid Unicode";
        }
      } else if (Character.isLowSurrogate(c)) {
        return "invalid name '" + printable(value) + "': not valid Unicode";
      }
    }
    return null;
  }

  public static boolean isValid(String value) {
    return problem(value) == null;
  }

  @Override
  public int compareTo(Name other) {
    return compareUtf8(value, other.value);
  }

  @Override
  public String toString() {
    return value;
  }

  /** Code point order, which is UTF-8 byte order; allocation-free. */
  public static int compareUtf8(String a, String b) {
    Objects.requireNonNull(a);
    Objects.requireNonNull(b);
    int n = Math.min(a.length(), b.length());
    for (int i = 0; i < n; i++) {
      char ca = a.charAt(i);
      char cb = b.charAt(i);
      if (ca != cb) {
        // Surrogates (U+D800..U+DFFF) encode code points above every BMP character, so they must
        // sort after U+E000..U+FFFF even though their UTF-16 units are smaller.
        boolean sa = Character.isSurrogate(ca);
        boolean sb = Character.isSurrogate(cb);
        if (sa != sb) {
          return sa ? 1 : -1;
        }
        return Character.compare(ca, cb);
      }
    }
    return Integer.compare(a.length(), b.length());
  }

  /** The value with control characters escaped, for error messages. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }
}
