package dev.cairn.core.tree;

import java.io.IOException;

/**
 * A Directory message (or a tree of them) is not canonical or not safe: unsorted or duplicate
 * names, a name with {@code /} or {@code ..}, an invalid digest, bytes that do not parse.
 */
public final class InvalidTreeException extends IOException {
  public InvalidTreeException(String message) {
    super(message);
  }

  public InvalidTreeException(String message, Throwable cause) {
    super(message, cause);
  }
}
