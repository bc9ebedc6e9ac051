package dev.cairn.fuse.cas;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.fuse.cas.Listing.Child;
import dev.cairn.fuse.cas.Listing.Kind;
import dev.cairn.fuse.cas.NodeTable.Node;
import dev.cairn.fuse.kernel.Attr;
import dev.cairn.fuse.kernel.Connection;
import dev.cairn.fuse.kernel.DirSink;
import dev.cairn.fuse.kernel.EntryReply;
import dev.cairn.fuse.kernel.Errno;
import dev.cairn.fuse.kernel.FuseException;
import dev.cairn.fuse.kernel.FuseFileSystem;
import dev.cairn.fuse.kernel.Native;
import dev.cairn.fuse.kernel.OpenReply;
import dev.cairn.fuse.kernel.RequestContext;
import dev.cairn.fuse.kernel.StatFs;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A read-only FUSE file system over one Merkle tree: the root Directory digest is read from a
 * {@link BlobSource} one Directory message at a time, as the kernel looks names up. Built on the
 * Directory messages themselves rather than on {@code CasDirectory}, because FUSE works on node
 * ids, and ids derived from content digests (see {@link NodeTable}) are what let the kernel share
 * caches across identical files.
 *
 * <p>Content never changes, so names, attributes and missing names are cached by the kernel for
 * a year. How files are opened and read is the {@link Reads} mode. Thread-safe.
 */
public final class CasFileSystem implements FuseFileSystem {

  /** How a mount opens and reads files. */
  public enum Reads {
    /**
     * No OPEN or OPENDIR requests at all: this file system answers the first with ENOSYS, after
     * which the kernel opens files and directories by itself and keeps their pages cached across
     * opens. A page is read from the blob's file here once, then served by the kernel. For builds,
     * which open the same headers thousands of times: each open(2) would otherwise be a round trip.
     */
    KERNEL_CACHE,
    /**
     * One OPEN per open(2): {@code open} makes sure the blob is in the local store and, when the
     * kernel offered passthrough (Linux 6.9+, root), registers the blob's file as backing file, so
     * reads never reach this process and the pages are cached once, as the blob file's. Without
     * passthrough, reads come here through an open descriptor and the kernel keeps its cache across
     * opens ({@code FOPEN_KEEP_CACHE}). For streaming large files.
     */
    PASSTHROUGH
  }

  private static final Logger LOG = System.getLogger(CasFileSystem.class.getName());
  private static final long FOREVER_NANOS = TimeUnit.DAYS.toNanos(365);
  private static final int LISTING_CACHE = 8192;
  public static final String XATTR_DIGEST = "user.cairn.digest";
  public static final String XATTR_SHA256 = "user.checksum.sha256";

  private final BlobSource blobs;
  private final Digest root;
  private final int uid;
  private final int gid;
  private final long mtimeSeconds;
  private final Reads reads;
  private final NodeTable nodes;
  private final Map<Digest, Listing> listings =
      new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Digest, Listing> eldest) {
          return size() > LISTING_CACHE;
        }
      }; // guarded by itself
  private final AtomicLong opens = new AtomicLong();
  private volatile Connection connection;

  /**
   * @param blobs where blobs come from
   * @param root the root Directory digest
   * @param uid owner shown for every node (the mounting user)
   * @param gid group shown for every node
   * @param mtimeSeconds modification time shown for every node (e.g. when the mount started)
   */
  public CasFileSystem(BlobSource blobs, Digest root, int uid, int gid, long mtimeSeconds) {
    this(blobs, root, uid, gid, mtimeSeconds, Reads.PASSTHROUGH);
  }

  /** As {@link #CasFileSystem(BlobSource, Digest, int, int, long)}, reading files as {@code reads} says. */
  public CasFileSystem(BlobSource blobs, Digest root, int uid, int gid, long mtimeSeconds,
      Reads reads) {
    this.reads = Objects.requireNonNull(reads, "reads");
    this.blobs = Objects.requireNonNull(blobs, "blobs");
    this.root = Objects.requireNonNull(root, "root");
    this.uid = uid;
    this.gid = gid;
    this.mtimeSeconds = mtimeSeconds;
    this.nodes = new NodeTable(root);
  }

  @Override
  public void init(Connection connection) throws IOException {
    this.connection = connection;
    listing(root); // fail the mount early if the root is missing or not a Directory
    LOG.log(Level.INFO, reads == Reads.KERNEL_CACHE
        ? "read-only mount of " + root + ": kernel-cached reads (files opened by the kernel alone,"
            + " pages read from the store once)"
        : connection.passthrough()
        ? "read-only mount of " + root + ": passthrough reads (kernel reads the store's files)"
        : "read-only mount of " + root + ": cached reads through this process (no passthrough"
            + " from the kernel: needs root and Linux 6.9+)");
  }

  @Override
  public void destroy() {
    closeAllBacking();
  }

  /** Releases every passthrough backing file still registered (at unmount). */
  public void closeAllBacking() {
    Connection c = connection;
    if (c == null || !c.passthrough()) {
      return;
    }
    for (int id : nodes.drainBackingIds()) {
      try {
        c.closeBacking(id);
      } catch (IOException e) {
        // the connection is going away; the kernel frees them with it
      }
    }
  }

  /** Nodes the kernel currently holds (for tests and metrics: stays flat as nodes are forgotten). */
  public int liveNodes() {
    return nodes.size();
  }

  /** Whether the kernel reads files directly from the store ({@link Reads#PASSTHROUGH} granted). */
  public boolean passthrough() {
    Connection c = connection;
    return reads == Reads.PASSTHROUGH && c != null && c.passthrough();
  }

  /** Files opened so far (OPEN requests: none with {@link Reads#KERNEL_CACHE}). */
  public long openCount() {
    return opens.get();
  }

  // ------------------------------------------------------------------------------ names

  @Override
  public EntryReply lookup(RequestContext ctx, long parent, String name) throws IOException {
    Node dir = dirNode(parent);
    Child child = listing(dir.digest).get(name);
    if (child == null) {
      return EntryReply.negative(FOREVER_NANOS); // the tree is immutable: it never appears
    }
    return entry(nodes.ref(parent, child));
  }

  @Override
  public void forget(long nodeId, long nlookup) {
    nodes.forget(nodeId, nlookup, this::closeBacking);
  }

  private void closeBacking(int backingId) {
    try {
      connection.closeBacking(backingId);
    } catch (IOException e) {
      LOG.log(Level.DEBUG, "closing backing id " + backingId + ": " + e.getMessage());
    }
  }

  @Override
  public AttrReply getattr(RequestContext ctx, long nodeId) throws IOException {
    return new AttrReply(attr(node(nodeId)), FOREVER_NANOS);
  }

  @Override
  public byte[] readlink(RequestContext ctx, long nodeId) throws IOException {
    Node n = node(nodeId);
    if (n.kind != Kind.LINK) {
      throw new FuseException(Errno.EINVAL, "not a symbolic link");
    }
    return n.target.getBytes(StandardCharsets.UTF_8);
  }

  // ------------------------------------------------------------------------------ files

  @Override
  public OpenReply open(RequestContext ctx, long nodeId, int flags) throws IOException {
    if ((flags & Native.O_ACCMODE) != Native.O_RDONLY || (flags & Native.O_TRUNC) != 0) {
      throw new FuseException(Errno.EROFS, "read-only mount");
    }
    if (reads == Reads.KERNEL_CACHE) {
      throw new FuseException(Errno.ENOSYS, "no opens: the kernel opens files by itself");
    }
    Node n = node(nodeId);
    if (n.kind == Kind.DIR) {
      throw new FuseException(Errno.EISDIR, "is a directory");
    }
    opens.incrementAndGet();
    Optional<Path> file = blobs.file(n.digest);
    if (file.isEmpty()) {
      return new OpenReply(0, OpenReply.FOPEN_KEEP_CACHE | OpenReply.FOPEN_NOFLUSH);
    }
    Connection c = connection;
    if (c.passthrough()) {
      int backing;
      synchronized (n) {
        if (n.backingId == 0) {
          n.backingId = c.openBacking(file.get(), false);
        }
        backing = n.backingId;
      }
      return new OpenReply(0, OpenReply.FOPEN_PASSTHROUGH | OpenReply.FOPEN_NOFLUSH, backing);
    }
    int fd = Native.open(file.get().toString(), Native.O_RDONLY | Native.O_CLOEXEC, 0);
    return new OpenReply(fd + 1L, OpenReply.FOPEN_KEEP_CACHE | OpenReply.FOPEN_NOFLUSH);
  }

  /**
   * Nothing is ever written, so there is nothing to flush: ENOSYS tells the kernel to stop
   * sending FLUSH at every close(2) (files the kernel opened alone have no FOPEN_NOFLUSH).
   */
  @Override
  public void flush(RequestContext ctx, long nodeId, long fh) throws IOException {
    throw new FuseException(Errno.ENOSYS, "read-only: nothing to flush");
  }

  @Override
  public int read(RequestContext ctx, long nodeId, long fh, long offset, int size,
      MemorySegment into) throws IOException {
    if (fh > 0) {
      return (int) Native.pread((int) (fh - 1), into, size, offset);
    }
    // No handle: opened by the kernel alone (KERNEL_CACHE), or the empty file. Passthrough reads
    // never come here.
    Node n = node(nodeId);
    if (n.kind != Kind.FILE) {
      throw new FuseException(Errno.EISDIR, "not a file");
    }
    for (int attempt = 0; ; attempt++) {
      Optional<Path> file = blobs.file(n.digest);
      if (file.isEmpty()) {
        return 0;
      }
      int fd;
      try {
        fd = Native.open(file.get().toString(), Native.O_RDONLY | Native.O_CLOEXEC, 0);
      } catch (FuseException e) {
        if (e.errno() == Errno.ENOENT && attempt == 0) {
          continue; // evicted between the lookup and the open: fetch it again
        }
        throw e;
      }
      try {
        return (int) Native.pread(fd, into, size, offset);
      } finally {
        Native.closeQuietly(fd);
      }
    }
  }

  @Override
  public void release(RequestContext ctx, long nodeId, long fh, int flags) throws IOException {
    if (fh > 0) {
      Native.close((int) (fh - 1));
    }
  }

  // ------------------------------------------------------------------------- directories

  @Override
  public OpenReply opendir(RequestContext ctx, long nodeId, int flags) throws IOException {
    if (reads == Reads.KERNEL_CACHE) {
      throw new FuseException(Errno.ENOSYS, "no opens: the kernel opens directories by itself");
    }
    dirNode(nodeId);
    return new OpenReply(0, OpenReply.FOPEN_CACHE_DIR | OpenReply.FOPEN_KEEP_CACHE);
  }

  @Override
  public void readdir(RequestContext ctx, long nodeId, long fh, long offset, DirSink sink)
      throws IOException {
    Node dir = dirNode(nodeId);
    Child[] children = listing(dir.digest).children;
    for (long i = offset; i < children.length + 2L; i++) {
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
      Child c = children[(int) (i - 2)];
      int type = mode(c.kind(), c.executable()) >>> 12;
      if (!sink.fits(c.name())) {
        return;
      }
      if (sink.plus()) {
        EntryReply e = entry(nodes.ref(nodeId, c));
        sink.addPlus(c.name(), e, type, e.nodeId(), i + 1);
      } else {
        long ino = nodes.peekId(nodeId, c);
        sink.add(c.name(), ino == 0 ? 0xFFFF_FFFFL & c.name().hashCode() | 1L << 40 : ino, type,
            i + 1);
      }
    }
  }

  @Override
  public StatFs statfs(RequestContext ctx, long nodeId) {
    var stats = blobs.local().stats();
    long total = stats.maxSizeBytes() / 4096;
    long used = Math.min(total, stats.bytesUsed() / 4096);
    return new StatFs(total, total - used, 0, stats.blobCount(), 0, 4096, 255);
  }

  // ------------------------------------------------------------------------------ xattrs

  @Override
  public byte[] getxattr(RequestContext ctx, long nodeId, String name) throws IOException {
    Node n = node(nodeId);
    if (n.digest == null) {
      throw new FuseException(Errno.ENODATA, name);
    }
    return switch (name) {
      case "user.cairn.capture" -> {
        if (nodeId != ROOT_ID) {
          throw new FuseException(Errno.ENODATA, name);
        }
        yield (root.hash() + "/" + root.sizeBytes()).getBytes(StandardCharsets.US_ASCII);
      }
      case XATTR_DIGEST -> (n.digest.hash() + "/" + n.digest.sizeBytes())
          .getBytes(StandardCharsets.US_ASCII);
      case XATTR_SHA256 -> {
        if (n.kind != Kind.FILE || blobs.local().digestFunction() != DigestFunction.SHA256) {
          throw new FuseException(Errno.ENODATA, name);
        }
        yield n.digest.hash().getBytes(StandardCharsets.US_ASCII);
      }
      default -> throw new FuseException(Errno.ENODATA, name);
    };
  }

  @Override
  public List<String> listxattr(RequestContext ctx, long nodeId) throws IOException {
    Node n = node(nodeId);
    if (n.kind == Kind.LINK) {
      return List.of();
    }
    if (n.kind == Kind.FILE && blobs.local().digestFunction() == DigestFunction.SHA256) {
      return List.of(XATTR_DIGEST, XATTR_SHA256);
    }
    return List.of(XATTR_DIGEST);
  }

  // ------------------------------------------------------------------------------ helpers

  private Node node(long id) throws FuseException {
    Node n = nodes.get(id);
    if (n == null) {
      throw new FuseException(Errno.ENOENT, "stale node id " + id);
    }
    return n;
  }

  private Node dirNode(long id) throws FuseException {
    Node n = node(id);
    if (n.kind != Kind.DIR) {
      throw new FuseException(Errno.ENOTDIR, "not a directory");
    }
    return n;
  }

  private Listing listing(Digest digest) throws IOException {
    synchronized (listings) {
      Listing l = listings.get(digest);
      if (l != null) {
        return l;
      }
    }
    Listing parsed = Listing.parse(blobs.bytes(digest), digest);
    synchronized (listings) {
      listings.put(digest, parsed);
    }
    return parsed;
  }

  private EntryReply entry(Node n) {
    return new EntryReply(n.id, attr(n), FOREVER_NANOS, FOREVER_NANOS);
  }

  private Attr attr(Node n) {
    long size = switch (n.kind) {
      case FILE -> n.digest.sizeBytes();
      case LINK -> n.target.getBytes(StandardCharsets.UTF_8).length;
      case DIR -> 4096;
    };
    return new Attr(n.id, size, mode(n.kind, n.executable), 1, uid, gid, mtimeSeconds, 0);
  }

  private static int mode(Kind kind, boolean executable) {
    return switch (kind) {
      case DIR -> Attr.S_IFDIR | 0755;
      case FILE -> Attr.S_IFREG | (executable ? 0755 : 0644);
      case LINK -> Attr.S_IFLNK | 0777;
    };
  }
}
