package dev.cairn.fuse.kernel;

import java.io.IOException;

/**
 * A failed file-system operation with the errno the kernel should see. File systems throw it
 * (other {@link IOException}s are mapped by {@link Errno#of}); the session answers the request
 * with {@code -errno}.
 */
public final class FuseException extends IOException {

  private final int errno;

  public FuseException(int errno, String message) {
    super(message);
    if (errno <= 0) {
      throw new IllegalArgumentException("errno must be positive, got " + errno);
    }
    this.errno = errno;
  }

  public FuseException(int errno, String message, Throwable cause) {
    this(errno, message);
    initCause(cause);
  }

  /** The positive errno value, e.g. {@link Errno#ENOENT}. */
  public int errno() {
    return errno;
  }
}
