package dev.cairn.core.tree;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.Map;

/**
 * What {@code lstat} says of a file, as far as its content goes: device and inode (which file),
 * size, and the modification and change times in nanoseconds. A file whose stamp is unchanged has
 * unchanged content: writing it moves its ctime, which no process can set back (utimes sets
 * mtime, and moves ctime to now), and a new file on the same inode is born with a later ctime.
 *
 * <p>The {@code unix} attribute view is the JDK's own {@code lstat} on Linux and macOS; {@link
 * #read} gives {@code null} where a platform lacks it, and callers then hash as if nothing were
 * known.
 */
record FileStamp(long device, long inode, long size, long mtimeNanos, long ctimeNanos) {

  /** The attributes one {@code lstat} returns: the stamp, the file's type and its mode. */
  static final String ATTRIBUTES = "unix:dev,ino,mode,size,lastModifiedTime,ctime";

  private static final int S_IFMT = 0170000;
  static final int S_IFREG = 0100000;
  static final int S_IFDIR = 0040000;
  static final int S_IFLNK = 0120000;

  /** Reads {@link #ATTRIBUTES} of {@code path} without following a symlink; null if unsupported. */
  static Map<String, Object> lstat(Path path) throws IOException {
    try {
      return Files.readAttributes(path, ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
    } catch (UnsupportedOperationException | IllegalArgumentException e) {
      return null;
    }
  }

  /** The stamp in the attributes {@link #lstat} read. */
  static FileStamp of(Map<String, Object> attrs) {
    return new FileStamp(
        (Long) attrs.get("dev"),
        (Long) attrs.get("ino"),
        (Long) attrs.get("size"),
        nanos((FileTime) attrs.get("lastModifiedTime")),
        nanos((FileTime) attrs.get("ctime")));
  }

  /** The stamp of {@code path} now, or null where the platform has no unix attributes. */
  static FileStamp read(Path path) throws IOException {
    Map<String, Object> attrs = lstat(path);
    return attrs == null ? null : of(attrs);
  }

  /** The file type bits of the {@code mode} attribute. */
  static int type(Map<String, Object> attrs) {
    return (Integer) attrs.get("mode") & S_IFMT;
  }

  /** Whether the owner may execute, from the {@code mode} attribute. */
  static boolean ownerExecutable(Map<String, Object> attrs) {
    return ((Integer) attrs.get("mode") & 0100) != 0;
  }

  private static long nanos(FileTime time) {
    Instant i = time.toInstant();
    return i.getEpochSecond() * 1_000_000_000L + i.getNano();
  }
}
