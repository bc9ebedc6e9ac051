package dev.cairn.asset.archive;

import java.io.IOException;

/**
 * An archive was refused: an entry that could escape the tree or cannot be stored, a limit
 * exceeded, or bytes that are not a valid archive. The message names the archive and the entry;
 * {@link #reason()} lets a service pick a status code without parsing it.
 */
public final class InvalidArchiveException extends IOException {

  /** Why the archive was refused. */
  public enum Reason {
    /** An entry with {@code ..}, an absolute path, NUL, or a path through a symlink. */
    UNSAFE_ENTRY,
    /** A device, fifo or other entry that is not a file, directory or symlink. */
    UNSUPPORTED_ENTRY,
    /** {@link ArchiveLimits} exceeded. */
    LIMIT_EXCEEDED,
    /** Truncated, corrupt, or not an archive of the expected format. */
    CORRUPT
  }

  private final Reason reason;

  public InvalidArchiveException(Reason reason, String message) {
    super(message);
    this.reason = reason;
  }

  public InvalidArchiveException(Reason reason, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
  }

  public Reason reason() {
    return reason;
  }
}
