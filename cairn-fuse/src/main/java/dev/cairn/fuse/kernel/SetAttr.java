package dev.cairn.fuse.kernel;

/**
 * What a SETATTR request asks to change; only the fields whose {@code FATTR_*} bit is set in
 * {@link #valid} are meaningful.
 */
public record SetAttr(int valid, long fh, long size, int mode, long mtimeSeconds, int mtimeNanos) {
  public static final int FATTR_MODE = 1;
  public static final int FATTR_UID = 1 << 1;
  public static final int FATTR_GID = 1 << 2;
  public static final int FATTR_SIZE = 1 << 3;
  public static final int FATTR_ATIME = 1 << 4;
  public static final int FATTR_MTIME = 1 << 5;
  public static final int FATTR_FH = 1 << 6;
  public static final int FATTR_MTIME_NOW = 1 << 8;

  public boolean has(int bit) {
    return (valid & bit) != 0;
  }
}
