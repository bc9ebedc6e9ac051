package dev.cairn.fuse.kernel;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What the kernel and the session agreed at INIT, and the per-connection services a file system
 * may use: registering backing files for {@code FOPEN_PASSTHROUGH}.
 */
public interface Connection {

  /** The protocol minor version in use (7.x). */
  int protocolMinor();

  /** Whether passthrough was negotiated: {@link #openBacking} works and opens may use it. */
  boolean passthrough();

  /** Whether the kernel caches writes (writeback cache) on this mount. */
  boolean writebackCache();

  /** The largest WRITE payload the kernel will send. */
  int maxWrite();

  /**
   * Registers {@code file} (opened read-only, or read-write with {@code writable}) as a backing
   * file and returns its backing id for {@link OpenReply}. The id stays valid until {@link
   * #closeBacking}; the kernel keeps its own reference while files use it.
   */
  int openBacking(Path file, boolean writable) throws IOException;

  /** Releases a backing id from {@link #openBacking}. */
  void closeBacking(int backingId) throws IOException;
}
