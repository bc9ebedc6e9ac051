package dev.cairn.fuse.kernel;

/**
 * The attributes of one node as the kernel caches them ({@code struct fuse_attr}).
 *
 * @param ino inode number shown by stat (the node id)
 * @param size bytes
 * @param mode file type and permission bits, e.g. {@code S_IFREG | 0644}
 * @param nlink link count
 * @param uid owner
 * @param gid group
 * @param mtimeSeconds modification time (also used for atime and ctime)
 * @param mtimeNanos nanoseconds part
 */
public record Attr(
    long ino, long size, int mode, int nlink, int uid, int gid, long mtimeSeconds, int mtimeNanos) {

  public static final int S_IFMT = 0170000;
  public static final int S_IFDIR = 0040000;
  public static final int S_IFREG = 0100000;
  public static final int S_IFLNK = 0120000;

  public boolean isDirectory() {
    return (mode & S_IFMT) == S_IFDIR;
  }

  /** The {@code d_type} of a directory entry for this node (DT_DIR, DT_REG, DT_LNK). */
  public int direntType() {
    return (mode & S_IFMT) >>> 12;
  }
}
