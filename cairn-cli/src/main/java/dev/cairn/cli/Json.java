package dev.cairn.cli;

import java.util.Locale;

/**
 * Writes one flat JSON object field by field, for {@code --json} output that scripts parse. Hand
 * written because the CLI needs only strings and numbers, not a JSON library in the jar. Strings
 * are escaped per RFC 8259: quotes, backslashes and control characters.
 */
final class Json {

  private final StringBuilder text = new StringBuilder("{");

  Json field(String name, String value) {
    key(name);
    quote(value);
    return this;
  }

  Json field(String name, long value) {
    key(name);
    text.append(value);
    return this;
  }

  /** A decimal with exactly {@code decimals} digits after the point, never in exponent form. */
  Json field(String name, double value, int decimals) {
    key(name);
    text.append(String.format(Locale.ROOT, "%." + decimals + "f", value));
    return this;
  }

  @Override
  public String toString() {
    return text + "}";
  }

  private void key(String name) {
    if (text.length() > 1) {
      text.append(", ");
    }
    quote(name);
    text.append(": ");
  }

  private void quote(String s) {
    text.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> text.append("\\\"");
        case '\\' -> text.append("\\\\");
        case '\n' -> text.append("\\n");
        case '\r' -> text.append("\\r");
        case '\t' -> text.append("\\t");
        case '\b' -> text.append("\\b");
        case '\f' -> text.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            text.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
          } else {
            text.append(c);
          }
        }
      }
    }
    text.append('"');
  }
}
