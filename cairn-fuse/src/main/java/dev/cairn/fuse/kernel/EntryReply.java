package dev.cairn.fuse.kernel;

/**
 * The answer to a lookup (and to mkdir, symlink, create...): the node id the kernel will use for
 * the name, its attributes, and how long the kernel may cache both. Each EntryReply sent counts
 * as one lookup of {@code nodeId} that the kernel later releases with FORGET.
 *
 * @param nodeId the node id (never 0 or 1 except for the root)
 * @param attr its attributes
 * @param entryTimeoutNanos how long the name may be cached
 * @param attrTimeoutNanos how long the attributes may be cached
 */
public record EntryReply(long nodeId, Attr attr, long entryTimeoutNanos, long attrTimeoutNanos) {

  /**
   * "No such name", cacheable: node id 0 with an entry timeout makes the kernel keep a negative
   * entry, so looking the name up again (a compiler probing include directories) does not come
   * back to the daemon until the timeout passes. Only for names that cannot appear meanwhile.
   */
  public static EntryReply negative(long timeoutNanos) {
    return new EntryReply(0, new Attr(0, 0, 0, 0, 0, 0, 0, 0), timeoutNanos, 0);
  }
}
