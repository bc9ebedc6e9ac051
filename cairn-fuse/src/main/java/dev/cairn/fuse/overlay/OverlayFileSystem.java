package dev.cairn.fuse.overlay;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.Name;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.kernel.Attr;
import dev.cairn.fuse.kernel.DirSink;
import dev.cairn.fuse.kernel.EntryReply;
import dev.cairn.fuse.kernel.Errno;
import dev.cairn.fuse.kernel.FuseException;
import dev.cairn.fuse.kernel.FuseFileSystem;
import dev.cairn.fuse.kernel.Native;
import dev.cairn.fuse.kernel.OpenReply;
import dev.cairn.fuse.kernel.RequestContext;
import dev.cairn.fuse.kernel.SetAttr;
import dev.cairn.fuse.kernel.StatFs;
import dev.cairn.fuse.overlay.PathTable.PNode;
import dev.cairn.vfs.Entry;
import dev.cairn.vfs.Node;
import dev.cairn.vfs.OverlayDirectory;
import dev.cairn.vfs.RenameOption;
import dev.cairn.vfs.TreePath;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A writable FUSE file system: an {@link OverlayDirectory} (copy-on-write over the mounted tree)
 * served by path. Unchanged files are read from their blob file in the local store; a file opened
 * for writing gets its own scratch file ({@link OverlayDirectory#scratchFile}) which reads and
 * writes go to directly with {@code pread}/{@code pwrite}, so an unlinked file stays usable
 * through its open handles. Metadata edits map to the Directory API ({@code mkdir},
 * {@code symlink}, {@code remove}, {@code rename} with rename(2) semantics, the executable bit).
 * The kernel's writeback cache batches small writes.
 *
 * <p>{@code getxattr(root, "user.cairn.capture")} answers with a snapshot of the tree ({@code
 * <hex>/<size>}): how {@code cairn capture} asks a running mount for its digest without a socket.
 * Owners, permission bits other than the executable bit, and timestamps other than mtime are not
 * part of a tree; mtimes of changed entries are kept in memory for the life of the mount (so
 * {@code make} sees what it wrote as new). Thread-safe. Over 500 lines because it maps every
 * FUSE operation that edits a tree; the node table ({@link PathTable}) is separate.
 */
public final class OverlayFileSystem implements FuseFileSystem {

  public static final String XATTR_CAPTURE = "user.cairn.capture";
  private static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final boolean writable;
  private volatile Consumer<Digest> onCapture = d -> {};
  private final OverlayDirectory tree;
  private final BlobSource blobs;
  private final int uid;
  private final int gid;
  private final long mountSeconds;
  private final PathTable nodes = new PathTable();
  private final Map<TreePath, long[]> mtimes = new ConcurrentHashMap<>();
  private final Map<Long, Handle> handles = new ConcurrentHashMap<>();
  private final Map<Long, List<Entry>> dirHandles = new ConcurrentHashMap<>();
  private final AtomicLong nextHandle = new AtomicLong(1);
  private final Consumer<String> access;
  private volatile Runnable onWrite = () -> {};
  private volatile Runnable onClose = () -> {};

  /** An open file: its descriptor and whether it was opened for writing. */
  private record Handle(int fd, boolean writable, long nodeId) {}

  /**
   * @param tree the overlay to serve (its lower tree reads blobs through {@code blobs})
   * @param blobs where unchanged files' blob files are found
   * @param access told the path (relative, "" for the root) of every open, readlink and listing
   */
  public OverlayFileSystem(OverlayDirectory tree, BlobSource blobs, int uid, int gid,
      long mountSeconds, Consumer<String> access) {
    this(tree, blobs, uid, gid, mountSeconds, access, true);
  }

  /**
   * @param writable false to serve the tree read-only by path (for access tracking on a
   *     read-only mount: the kernel mount is read-only too)
   */
  public OverlayFileSystem(OverlayDirectory tree, BlobSource blobs, int uid, int gid,
      long mountSeconds, Consumer<String> access, boolean writable) {
    this.writable = writable;
    this.tree = Objects.requireNonNull(tree, "tree");
    this.blobs = Objects.requireNonNull(blobs, "blobs");
    this.uid = uid;
    this.gid = gid;
    this.mountSeconds = mountSeconds;
    this.access = Objects.requireNonNull(access, "access");
  }

  /** Hooks for a flush policy: called after each write, and when a written file is closed. */
  public void onChanges(Runnable afterWrite, Runnable afterClose) {
    this.onWrite = Objects.requireNonNull(afterWrite);
    this.onClose = Objects.requireNonNull(afterClose);
  }

  /** Called with the digest each time {@code user.cairn.capture} is read. */
  public void onCapture(Consumer<Digest> hook) {
    this.onCapture = Objects.requireNonNull(hook);
  }

  @Override
  public Features features() {
    return new Features(writable, false);
  }

  /** The root digest of the tree as it is now (hashes only what changed). */
  public Digest capture() throws IOException {
    return tree.snapshot();
  }

  @Override
  public void destroy() {
    for (Handle h : handles.values()) {
      Native.closeQuietly(h.fd());
    }
    handles.clear();
  }

  // ------------------------------------------------------------------------------ names

  @Override
  public EntryReply lookup(RequestContext ctx, long parent, String name) throws IOException {
    TreePath path = child(parent, name);
    Node node = tree.stat(path);
    return entry(nodes.ref(path), path, node);
  }

  @Override
  public void forget(long nodeId, long nlookup) {
    nodes.forget(nodeId, nlookup);
  }

  @Override
  public AttrReply getattr(RequestContext ctx, long nodeId) throws IOException {
    PNode n = node(nodeId);
    TreePath path = n.path;
    if (path == null) {
      return new AttrReply(detachedAttr(nodeId), TIMEOUT_NANOS);
    }
    return new AttrReply(attr(nodeId, path, tree.stat(path)), TIMEOUT_NANOS);
  }

  @Override
  public AttrReply setattr(RequestContext ctx, long nodeId, SetAttr change) throws IOException {
    TreePath path = node(nodeId).path;
    if (path == null) {
      // removed while open: only its open handle is left to change
      Handle h = change.has(SetAttr.FATTR_FH) ? handles.get(change.fh()) : null;
      if (change.has(SetAttr.FATTR_SIZE) && h != null && h.writable()) {
        Native.ftruncate(h.fd(), change.size());
      }
      return new AttrReply(detachedAttr(nodeId), TIMEOUT_NANOS);
    }
    if (change.has(SetAttr.FATTR_SIZE)) {
      Handle h = change.has(SetAttr.FATTR_FH) ? handles.get(change.fh()) : null;
      if (h != null && h.writable()) {
        Native.ftruncate(h.fd(), change.size());
      } else {
        int fd = Native.open(tree.scratchFile(path).toString(), Native.O_WRONLY | Native.O_CLOEXEC, 0);
        try {
          Native.ftruncate(fd, change.size());
        } finally {
          Native.closeQuietly(fd);
        }
      }
      touch(path);
      onWrite.run();
    }
    if (change.has(SetAttr.FATTR_MODE) && tree.stat(path) instanceof Node.File f) {
      boolean exec = (change.mode() & 0100) != 0;
      if (exec != f.executable()) {
        tree.setExecutable(path, exec);
        onWrite.run();
      }
    }
    if (change.has(SetAttr.FATTR_MTIME)) {
      mtimes.put(path, new long[] {change.mtimeSeconds(), change.mtimeNanos()});
    } else if (change.has(SetAttr.FATTR_MTIME_NOW)) {
      touch(path);
    }
    return new AttrReply(attr(nodeId, path, tree.stat(path)), TIMEOUT_NANOS);
  }

  @Override
  public byte[] readlink(RequestContext ctx, long nodeId) throws IOException {
    TreePath path = path(nodeId);
    if (!(tree.stat(path) instanceof Node.Link l)) {
      throw new FuseException(Errno.EINVAL, "not a symbolic link");
    }
    access.accept(path.toString());
    return l.target().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public EntryReply symlink(RequestContext ctx, long parent, String name, String target)
      throws IOException {
    TreePath path = child(parent, name);
    tree.symlink(target, path);
    changed(path);
    return entry(nodes.ref(path), path, tree.stat(path));
  }

  @Override
  public EntryReply mkdir(RequestContext ctx, long parent, String name, int mode)
      throws IOException {
    TreePath path = child(parent, name);
    tree.mkdir(path, false);
    changed(path);
    return entry(nodes.ref(path), path, tree.stat(path));
  }

  @Override
  public EntryReply mknod(RequestContext ctx, long parent, String name, int mode, int rdev)
      throws IOException {
    if ((mode & Attr.S_IFMT) != Attr.S_IFREG) {
      throw new FuseException(Errno.EPERM, "only regular files, directories and symlinks exist in a tree");
    }
    TreePath path = newFile(parent, name, mode);
    return entry(nodes.ref(path), path, tree.stat(path));
  }

  @Override
  public Created create(RequestContext ctx, long parent, String name, int flags, int mode)
      throws IOException {
    TreePath path = newFile(parent, name, mode);
    int fd = Native.open(tree.scratchFile(path).toString(), Native.O_RDWR | Native.O_CLOEXEC, 0);
    long fh = nextHandle.getAndIncrement();
    long id = nodes.ref(path).id;
    access.accept(path.toString());
    handles.put(fh, new Handle(fd, true, id));
    return new Created(entry(nodes.get(id), path, tree.stat(path)), new OpenReply(fh, 0));
  }

  private TreePath newFile(long parent, String name, int mode) throws IOException {
    TreePath path = child(parent, name);
    try {
      tree.stat(path);
      throw new FuseException(Errno.EEXIST, path.toString());
    } catch (java.nio.file.NoSuchFileException expected) {
      // the normal case
    }
    tree.write(path, new ByteArrayInputStream(new byte[0]));
    if ((mode & 0100) != 0) {
      tree.setExecutable(path, true);
    }
    changed(path);
    return path;
  }

  @Override
  public void unlink(RequestContext ctx, long parent, String name) throws IOException {
    TreePath path = child(parent, name);
    if (tree.stat(path) instanceof Node.Dir) {
      throw new FuseException(Errno.EISDIR, path.toString());
    }
    tree.remove(path, false);
    nodes.removed(path);
    mtimes.remove(path);
    touch(path.parent());
    onWrite.run();
  }

  @Override
  public void rmdir(RequestContext ctx, long parent, String name) throws IOException {
    TreePath path = child(parent, name);
    if (!(tree.stat(path) instanceof Node.Dir)) {
      throw new FuseException(Errno.ENOTDIR, path.toString());
    }
    tree.remove(path, false);
    nodes.removed(path);
    touch(path.parent());
    onWrite.run();
  }

  @Override
  public void rename(RequestContext ctx, long parent, String name, long newParent, String newName,
      int flags) throws IOException {
    TreePath source = child(parent, name);
    TreePath target = child(newParent, newName);
    Set<RenameOption> options = EnumSet.noneOf(RenameOption.class);
    if ((flags & 1) != 0) {
      options.add(RenameOption.NO_REPLACE);
    }
    if ((flags & 2) != 0) {
      options.add(RenameOption.EXCHANGE);
    }
    if ((flags & ~3) != 0) {
      throw new FuseException(Errno.EINVAL, "unsupported rename flags " + flags);
    }
    tree.rename(source, target, options);
    if (options.contains(RenameOption.EXCHANGE)) {
      nodes.exchanged(source, target);
    } else if (!source.equals(target)) {
      nodes.renamed(source, target);
      long[] m = mtimes.remove(source);
      if (m != null) {
        mtimes.put(target, m);
      }
    }
    touch(source.parent());
    touch(target.parent());
    onWrite.run();
  }

  // ------------------------------------------------------------------------------ files

  @Override
  public OpenReply open(RequestContext ctx, long nodeId, int flags) throws IOException {
    TreePath path = path(nodeId);
    Node node = tree.stat(path);
    if (node instanceof Node.Dir) {
      throw new FuseException(Errno.EISDIR, path.toString());
    }
    if (!(node instanceof Node.File file)) {
      throw new FuseException(Errno.EINVAL, path.toString());
    }
    access.accept(path.toString());
    boolean writing = (flags & Native.O_ACCMODE) != Native.O_RDONLY || (flags & Native.O_TRUNC) != 0;
    if (writing && !writable) {
      throw new FuseException(Errno.EROFS, "read-only mount");
    }
    int fd;
    if (writing || file.digest().isEmpty()) {
      Path scratch = tree.scratchFile(path); // copies up the first time
      fd = Native.open(scratch.toString(), Native.O_RDWR | Native.O_CLOEXEC, 0);
      if ((flags & Native.O_TRUNC) != 0) {
        Native.ftruncate(fd, 0);
        touch(path);
      }
    } else {
      Optional<Path> blob = blobs.file(file.digest().get());
      if (blob.isEmpty()) {
        fd = Native.open("/dev/null", Native.O_RDONLY | Native.O_CLOEXEC, 0); // the empty blob
      } else {
        fd = Native.open(blob.get().toString(), Native.O_RDONLY | Native.O_CLOEXEC, 0);
      }
    }
    long fh = nextHandle.getAndIncrement();
    handles.put(fh, new Handle(fd, writing || file.digest().isEmpty(), nodeId));
    return new OpenReply(fh, 0);
  }

  @Override
  public int read(RequestContext ctx, long nodeId, long fh, long offset, int size,
      MemorySegment into) throws IOException {
    return (int) Native.pread(handle(fh).fd(), into, size, offset);
  }

  @Override
  public int write(RequestContext ctx, long nodeId, long fh, long offset, MemorySegment data,
      int writeFlags) throws IOException {
    Handle h = handle(fh);
    if (!h.writable()) {
      throw new FuseException(Errno.EBADF, "file not open for writing");
    }
    Native.pwrite(h.fd(), data, data.byteSize(), offset);
    TreePath path = nodes.path(nodeId);
    if (path != null) {
      touch(path);
    }
    onWrite.run();
    return (int) data.byteSize();
  }

  @Override
  public void fsync(RequestContext ctx, long nodeId, long fh, boolean dataOnly) throws IOException {
    Handle h = handles.get(fh);
    if (h != null && h.writable()) {
      Native.fsync(h.fd());
    }
  }

  @Override
  public void release(RequestContext ctx, long nodeId, long fh, int flags) throws IOException {
    Handle h = handles.remove(fh);
    if (h != null) {
      Native.close(h.fd());
      if (h.writable()) {
        onClose.run();
      }
    }
  }

  // ------------------------------------------------------------------------- directories

  @Override
  public OpenReply opendir(RequestContext ctx, long nodeId, int flags) throws IOException {
    TreePath path = path(nodeId);
    List<Entry> entries = tree.list(path); // one listing per open: offsets stay stable
    access.accept(path.toString());
    long fh = nextHandle.getAndIncrement();
    dirHandles.put(fh, entries);
    return new OpenReply(fh, 0);
  }

  @Override
  public void readdir(RequestContext ctx, long nodeId, long fh, long offset, DirSink sink)
      throws IOException {
    List<Entry> entries = dirHandles.get(fh);
    TreePath dir = path(nodeId);
    if (entries == null) {
      throw new FuseException(Errno.EBADF, "directory not open");
    }
    for (long i = offset; i < entries.size() + 2L; i++) {
      if (i < 2) {
        String name = i == 0 ? "." : "..";
        boolean added = sink.plus()
            ? sink.addPlus(name, null, Attr.S_IFDIR >>> 12, nodeId, i + 1)
            : sink.add(name, nodeId, Attr.S_IFDIR >>> 12, i + 1);
        if (!added) {
          return;
        }
        continue;
      }
      Entry e = entries.get((int) (i - 2));
      String name = e.name().value();
      if (!sink.fits(name)) {
        return;
      }
      TreePath path = dir.resolve(e.name());
      int type = mode(e.node()) >>> 12;
      if (sink.plus()) {
        PNode n = nodes.ref(path);
        sink.addPlus(name, entry(n, path, e.node()), type, n.id, i + 1);
      } else {
        long id = nodes.peek(path);
        sink.add(name, id == 0 ? Integer.toUnsignedLong(path.hashCode()) | 1L << 40 : id, type,
            i + 1);
      }
    }
  }

  @Override
  public void releasedir(RequestContext ctx, long nodeId, long fh) {
    dirHandles.remove(fh);
  }

  @Override
  public StatFs statfs(RequestContext ctx, long nodeId) {
    var stats = blobs.local().stats();
    long total = stats.maxSizeBytes() / 4096;
    long used = Math.min(total, stats.bytesUsed() / 4096);
    return new StatFs(total, total - used, total - used, stats.blobCount() + 1_000_000,
        1_000_000, 4096, 255);
  }

  // ------------------------------------------------------------------------------ xattrs

  @Override
  public byte[] getxattr(RequestContext ctx, long nodeId, String name) throws IOException {
    TreePath path = path(nodeId);
    if (name.equals(XATTR_CAPTURE) && path.isRoot()) {
      Digest d = capture();
      onCapture.accept(d);
      return (d.hash() + "/" + d.sizeBytes()).getBytes(StandardCharsets.US_ASCII);
    }
    if (name.equals("user.cairn.digest")) {
      Optional<Digest> d = switch (tree.stat(path)) {
        case Node.File f -> f.digest();
        case Node.Dir dir -> dir.digest();
        case Node.Link l -> Optional.empty();
      };
      if (d.isPresent()) {
        return (d.get().hash() + "/" + d.get().sizeBytes()).getBytes(StandardCharsets.US_ASCII);
      }
    }
    throw new FuseException(Errno.ENODATA, name);
  }

  // ------------------------------------------------------------------------------ helpers

  private Handle handle(long fh) throws FuseException {
    Handle h = handles.get(fh);
    if (h == null) {
      throw new FuseException(Errno.EBADF, "unknown file handle " + fh);
    }
    return h;
  }

  private PNode node(long id) throws FuseException {
    PNode n = nodes.get(id);
    if (n == null) {
      throw new FuseException(Errno.ENOENT, "stale node id " + id);
    }
    return n;
  }

  private TreePath path(long id) throws FuseException {
    TreePath p = node(id).path;
    if (p == null) {
      throw new FuseException(Errno.ENOENT, "node " + id + " was removed");
    }
    return p;
  }

  private TreePath child(long parent, String name) throws FuseException {
    String problem = Name.problem(name);
    if (problem != null) {
      throw new FuseException(Errno.EINVAL, "name '" + name + "': " + problem);
    }
    if (name.getBytes(StandardCharsets.UTF_8).length > 255) {
      throw new FuseException(Errno.ENAMETOOLONG, name);
    }
    return path(parent).resolve(new Name(name));
  }

  private void changed(TreePath path) {
    touch(path);
    if (!path.isRoot()) {
      touch(path.parent());
    }
    onWrite.run();
  }

  private void touch(TreePath path) {
    long nanos = System.currentTimeMillis() * 1_000_000L;
    mtimes.put(path, new long[] {nanos / 1_000_000_000L, nanos % 1_000_000_000L});
  }

  private EntryReply entry(PNode n, TreePath path, Node node) {
    return new EntryReply(n.id, attr(n.id, path, node), TIMEOUT_NANOS, TIMEOUT_NANOS);
  }

  private Attr attr(long id, TreePath path, Node node) {
    long size = switch (node) {
      case Node.File f -> f.size();
      case Node.Link l -> l.target().getBytes(StandardCharsets.UTF_8).length;
      case Node.Dir d -> 4096;
    };
    long[] m = mtimes.get(path);
    return new Attr(id, size, mode(node), 1, uid, gid, m == null ? mountSeconds : m[0],
        m == null ? 0 : (int) m[1]);
  }

  /** A removed file still open somewhere: its size from an open descriptor. */
  private Attr detachedAttr(long id) throws FuseException {
    for (Handle h : handles.values()) {
      if (h.nodeId() == id) {
        return new Attr(id, Native.size(h.fd()), Attr.S_IFREG | 0644, 0, uid, gid, mountSeconds, 0);
      }
    }
    throw new FuseException(Errno.ENOENT, "node " + id + " was removed");
  }

  private static int mode(Node node) {
    return switch (node) {
      case Node.Dir d -> Attr.S_IFDIR | 0755;
      case Node.File f -> Attr.S_IFREG | (f.executable() ? 0755 : 0644);
      case Node.Link l -> Attr.S_IFLNK | 0777;
    };
  }
}
