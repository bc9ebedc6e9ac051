package dev.cairn.vfs;

import java.nio.file.FileSystemException;

/**
 * An operation that can never succeed on these arguments, whatever the tree holds: moving a
 * directory into its own subtree, renaming the root, contradictory options. Its own class so that
 * adapters can answer {@code EINVAL} without parsing messages.
 */
public class InvalidOperationException extends FileSystemException {
  private static final long serialVersionUID = 1L;

  /** {@code reason} why the operation on {@code file} (and {@code other}, may be null) is invalid. */
  public InvalidOperationException(String file, String other, String reason) {
    super(file, other, reason);
  }
}
