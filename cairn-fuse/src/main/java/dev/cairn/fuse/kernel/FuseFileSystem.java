package dev.cairn.fuse.kernel;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * The file system a {@link FuseSession} serves: the kernel's node-id based operations, decoded
 * into Java values. The session owns the wire format; an implementation only deals in node ids,
 * names and records, and reports failures as {@link IOException}s ({@link FuseException} for an
 * exact errno, others mapped by {@link Errno#of}).
 *
 * <p>Node ids are chosen by the file system (the root is {@link #ROOT_ID}); every {@link
 * EntryReply} returned or added to a {@link DirSink} counts one lookup, and {@link #forget}
 * releases them, so an implementation can drop a node the kernel no longer knows. Methods are
 * called concurrently from several session threads. Operations a read-only file system does not
 * override answer EROFS; others answer ENOSYS.
 */
public interface FuseFileSystem {

  long ROOT_ID = 1;

  /** Called once after INIT, before any other request. */
  default void init(Connection connection) throws IOException {}

  /** Called when the session ends (unmount). */
  default void destroy() {}

  /** Which optional kernel features to ask for at INIT. */
  default Features features() {
    return Features.READ_ONLY;
  }

  /**
   * Kernel features a file system wants.
   *
   * @param writable whether the mount accepts writes (asks for the writeback cache)
   * @param passthrough whether to ask for FOPEN_PASSTHROUGH (only offered by the kernel to
   *     privileged servers, and not together with the writeback cache)
   */
  record Features(boolean writable, boolean passthrough) {
    public static final Features READ_ONLY = new Features(false, true);
  }

  EntryReply lookup(RequestContext ctx, long parent, String name) throws IOException;

  /** The kernel dropped {@code nlookup} lookups of {@code nodeId}. */
  void forget(long nodeId, long nlookup);

  /** Attributes and their cache timeout (nanoseconds) as {@code attr}'s pair. */
  AttrReply getattr(RequestContext ctx, long nodeId) throws IOException;

  /** Attributes with how long the kernel may cache them. */
  record AttrReply(Attr attr, long timeoutNanos) {}

  default AttrReply setattr(RequestContext ctx, long nodeId, SetAttr change) throws IOException {
    throw readOnly();
  }

  /** The target of a symbolic link, as bytes (UTF-8 text in Cairn trees). */
  byte[] readlink(RequestContext ctx, long nodeId) throws IOException;

  default EntryReply symlink(RequestContext ctx, long parent, String name, String target)
      throws IOException {
    throw readOnly();
  }

  default EntryReply mkdir(RequestContext ctx, long parent, String name, int mode)
      throws IOException {
    throw readOnly();
  }

  default EntryReply mknod(RequestContext ctx, long parent, String name, int mode, int rdev)
      throws IOException {
    throw readOnly();
  }

  /** Answer to CREATE: the new entry and the open file. */
  record Created(EntryReply entry, OpenReply open) {}

  default Created create(RequestContext ctx, long parent, String name, int flags, int mode)
      throws IOException {
    throw readOnly();
  }

  default void unlink(RequestContext ctx, long parent, String name) throws IOException {
    throw readOnly();
  }

  default void rmdir(RequestContext ctx, long parent, String name) throws IOException {
    throw readOnly();
  }

  /** RENAME and RENAME2; {@code flags} are RENAME_NOREPLACE (1) and RENAME_EXCHANGE (2). */
  default void rename(RequestContext ctx, long parent, String name, long newParent, String newName,
      int flags) throws IOException {
    throw readOnly();
  }

  OpenReply open(RequestContext ctx, long nodeId, int flags) throws IOException;

  /**
   * Reads up to {@code size} bytes at {@code offset} into {@code into} (off-heap, at least {@code
   * size} bytes); returns how many were read (fewer only at end of file).
   */
  int read(RequestContext ctx, long nodeId, long fh, long offset, int size, MemorySegment into)
      throws IOException;

  /** Writes {@code data} at {@code offset}; returns the bytes written. */
  default int write(RequestContext ctx, long nodeId, long fh, long offset, MemorySegment data,
      int writeFlags) throws IOException {
    throw readOnly();
  }

  default void flush(RequestContext ctx, long nodeId, long fh) throws IOException {}

  default void fsync(RequestContext ctx, long nodeId, long fh, boolean dataOnly) throws IOException {}

  void release(RequestContext ctx, long nodeId, long fh, int flags) throws IOException;

  OpenReply opendir(RequestContext ctx, long nodeId, int flags) throws IOException;

  /** Fills {@code sink} with entries after {@code offset} (0 = from the start). */
  void readdir(RequestContext ctx, long nodeId, long fh, long offset, DirSink sink)
      throws IOException;

  default void releasedir(RequestContext ctx, long nodeId, long fh) throws IOException {}

  StatFs statfs(RequestContext ctx, long nodeId) throws IOException;

  /** The value of extended attribute {@code name}; ENODATA if the node has none by that name. */
  default byte[] getxattr(RequestContext ctx, long nodeId, String name) throws IOException {
    throw new FuseException(Errno.ENODATA, name);
  }

  default List<String> listxattr(RequestContext ctx, long nodeId) throws IOException {
    return List.of();
  }

  /** access(2) check; with default_permissions the kernel rarely asks. */
  default void access(RequestContext ctx, long nodeId, int mask) throws IOException {
    getattr(ctx, nodeId);
  }

  private static FuseException readOnly() {
    return new FuseException(Errno.EROFS, "read-only file system");
  }
}
