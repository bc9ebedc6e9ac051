package dev.cairn.vfs;

import java.nio.file.FileSystemException;

/**
 * A file operation met a directory: reading or writing one as a file, or renaming a file over
 * one. Its own class (where {@code java.nio.file} has none) so that adapters can answer
 * {@code EISDIR} without parsing messages.
 */
public class IsDirectoryException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** {@code file} is a directory. */
  public IsDirectoryException(String file) {
    super(file, null, "is a directory");
  }

  /** {@code file} is a directory; {@code reason} says what could not be done to it. */
  public IsDirectoryException(String file, String reason) {
    super(file, null, reason);
  }
}
