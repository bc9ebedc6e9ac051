package dev.cairn.asset;

import java.util.List;

/**
 * A request named qualifiers Cairn does not implement; the spec requires INVALID_ARGUMENT naming
 * each of them (as {@code qualifiers.name} field violations).
 */
public final class UnsupportedQualifierException extends IllegalArgumentException {
  private final List<String> names;

  public UnsupportedQualifierException(List<String> names, String supported) {
    super("unsupported qualifier" + (names.size() == 1 ? " " : "s ")
        + String.join(", ", names.stream().map(n -> "\"" + n + "\"").toList())
        + " (supported: " + supported + ")");
    this.names = List.copyOf(names);
  }

  /** The unsupported qualifier names, in request order. */
  public List<String> names() {
    return names;
  }
}
