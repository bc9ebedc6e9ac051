package dev.cairn.fuse.kernel;

/**
 * The answer to open/opendir/create: the file handle the kernel passes back on every later call
 * on the open file, the {@code FOPEN_*} flags and, with {@link #FOPEN_PASSTHROUGH}, the backing id
 * registered with {@link Connection#openBacking}.
 */
public record OpenReply(long fh, int openFlags, int backingId) {
  public static final int FOPEN_DIRECT_IO = 1;
  public static final int FOPEN_KEEP_CACHE = 1 << 1;
  public static final int FOPEN_NONSEEKABLE = 1 << 2;
  public static final int FOPEN_CACHE_DIR = 1 << 3;
  public static final int FOPEN_NOFLUSH = 1 << 5;
  public static final int FOPEN_PASSTHROUGH = 1 << 7;

  public OpenReply(long fh, int openFlags) {
    this(fh, openFlags, 0);
  }
}
