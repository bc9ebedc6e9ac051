package dev.cairn.vfs;

import java.nio.file.Path;

/** The one rule for symlink targets, so that every backend accepts and refuses the same ones. */
final class SymlinkTargets {
  private SymlinkTargets() {}

  /**
   * Checks that {@code target} can be stored verbatim by every backend: non-empty, no NUL, and
   * unchanged by a file system path (no doubled or trailing slashes).
   *
   * @throws IllegalArgumentException naming the target and the reason
   */
  static void requireStorable(String target) {
    if (target.isEmpty() || target.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("symlink target must be non-empty and without NUL");
    }
    if (!Path.of(target).toString().equals(target)) {
      throw new IllegalArgumentException("symlink target '" + target
          + "': doubled or trailing slashes cannot be stored verbatim on every backend");
    }
  }
}
