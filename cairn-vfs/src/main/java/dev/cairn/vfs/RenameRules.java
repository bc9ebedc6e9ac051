package dev.cairn.vfs;

import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Set;

/**
 * The checks of {@code rename(2)} / {@code renameat2(2)} in the kernel's order, shared by every
 * backend so that all of them fail in the same cases with the same exception classes. A backend
 * resolves the target's parent (missing: {@code NoSuchFileException}, not a directory:
 * {@code NotDirectoryException}) and both entries, then asks {@link #check}.
 */
final class RenameRules {
  private RenameRules() {}

  /** Whether a (non-empty) directory is empty, asked only when a directory would replace it. */
  @FunctionalInterface
  interface Emptiness {
    boolean isEmpty() throws IOException;
  }

  /** Rejects option sets that make no sense before anything is resolved. */
  static void checkOptions(TreePath source, TreePath target, Set<RenameOption> options)
      throws InvalidOperationException {
    if (options.contains(RenameOption.NO_REPLACE) && options.contains(RenameOption.EXCHANGE)) {
      throw new InvalidOperationException(source.toString(), target.toString(),
          "NO_REPLACE and EXCHANGE exclude each other");
    }
    if (source.isRoot() || target.isRoot()) {
      throw new InvalidOperationException(source.toString(), target.toString(), "cannot rename the root");
    }
  }

  /**
   * Checks a rename of the entry at {@code source} (a directory if {@code sourceIsDir}; it
   * exists) to {@code target} ({@code targetExists}, a directory if {@code targetIsDir}).
   *
   * @return false if the rename is a no-op (source and target are the same entry)
   */
  static boolean check(TreePath source, boolean sourceIsDir, TreePath target, boolean targetExists,
      boolean targetIsDir, Emptiness targetEmpty, Set<RenameOption> options) throws IOException {
    boolean exchange = options.contains(RenameOption.EXCHANGE);
    if (options.contains(RenameOption.NO_REPLACE) && targetExists) {
      throw new FileAlreadyExistsException(target.toString());
    }
    if (exchange && !targetExists) {
      throw new NoSuchFileException(target.toString());
    }
    if (source.equals(target)) {
      return false;
    }
    if (target.startsWith(source)) {
      throw new InvalidOperationException(source.toString(), target.toString(),
          "cannot move a directory into itself");
    }
    if (source.startsWith(target)) {
      if (exchange) {
        throw new InvalidOperationException(source.toString(), target.toString(),
            "cannot exchange a directory with one of its ancestors");
      }
      throw new DirectoryNotEmptyException(target.toString());
    }
    if (exchange || !targetExists) {
      return true;
    }
    if (sourceIsDir && !targetIsDir) {
      throw new NotDirectoryException(target.toString());
    }
    if (!sourceIsDir && targetIsDir) {
      throw new IsDirectoryException(target.toString(), "cannot overwrite directory with non-directory");
    }
    if (sourceIsDir && !targetEmpty.isEmpty()) {
      throw new DirectoryNotEmptyException(target.toString());
    }
    return true;
  }
}
