package dev.cairn.fuse.kernel;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_SHORT_UNALIGNED;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One FUSE connection: answers the kernel's requests on a {@code /dev/fuse} descriptor by calling
 * a {@link FuseFileSystem}. This class is the wire format — it decodes every request of protocol
 * 7.40 that Cairn serves ({@code include/uapi/linux/fuse.h}), encodes the replies, and answers
 * ENOSYS to the rest.
 *
 * <p>{@link #start} performs the INIT handshake on the calling thread (so the mount is usable when
 * it returns), then serves on a fixed number of platform threads, each with its own off-heap
 * request and reply buffers: request data (WRITE payloads) and reply data (READ, READDIR) never
 * touch the Java heap. The session ends when the kernel reports ENODEV (the file system was
 * unmounted) or DESTROY arrives. Over 500 lines because it is the whole protocol in one place.
 */
public final class FuseSession implements AutoCloseable {

  private static final Logger LOG = System.getLogger(FuseSession.class.getName());

  static final int KERNEL_MAJOR = 7;
  /** 7.40 is the first minor with passthrough (backing ids in the open reply). */
  static final int OUR_MINOR = 40;

  /** Payload limit we offer: 1 MiB writes and reads (256 pages). */
  public static final int MAX_WRITE = 1 << 20;
  private static final int MAX_PAGES = MAX_WRITE / 4096;
  /** Request buffer: max_write plus room for the headers, as the kernel demands. */
  private static final int IN_BUFFER = MAX_WRITE + 8192 + 4096;
  private static final int OUT_BUFFER = MAX_WRITE + 4096;

  private static final int IN_HEADER = 40;
  private static final int OUT_HEADER = 16;
  private static final int ATTR_SIZE = 88;
  private static final int ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
  private static final int DIRENT_HEADER = 24;

  // opcodes
  static final int LOOKUP = 1, FORGET = 2, GETATTR = 3, SETATTR = 4, READLINK = 5, SYMLINK = 6,
      MKNOD = 8, MKDIR = 9, UNLINK = 10, RMDIR = 11, RENAME = 12, OPEN = 14, READ = 15,
      WRITE = 16, STATFS = 17, RELEASE = 18, FSYNC = 20, GETXATTR = 22, LISTXATTR = 23,
      FLUSH = 25, INIT = 26, OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, ACCESS = 34,
      CREATE = 35, INTERRUPT = 36, DESTROY = 38, BATCH_FORGET = 42, READDIRPLUS = 44,
      RENAME2 = 45;

  // INIT flags
  static final long ASYNC_READ = 1L, ATOMIC_O_TRUNC = 1L << 3, BIG_WRITES = 1L << 5,
      DO_READDIRPLUS = 1L << 13, WRITEBACK_CACHE = 1L << 16, PARALLEL_DIROPS = 1L << 18,
      MAX_PAGES_FLAG = 1L << 22, CACHE_SYMLINKS = 1L << 23, INIT_EXT = 1L << 30,
      PASSTHROUGH = 1L << 37;

  private static final long FUSE_DEV_IOC_BACKING_OPEN = 0x4010E501L;
  private static final long FUSE_DEV_IOC_BACKING_CLOSE = 0x4004E502L;

  /** Told the opcode and duration of every request answered (for metrics). */
  @FunctionalInterface
  public interface Observer {
    void answered(int opcode, long nanos);
  }

  private static final String[] OPCODE_NAMES = new String[64];

  static {
    String[] names = {"", "LOOKUP", "FORGET", "GETATTR", "SETATTR", "READLINK", "SYMLINK", "",
        "MKNOD", "MKDIR", "UNLINK", "RMDIR", "RENAME", "LINK", "OPEN", "READ", "WRITE", "STATFS",
        "RELEASE", "", "FSYNC", "SETXATTR", "GETXATTR", "LISTXATTR", "REMOVEXATTR", "FLUSH",
        "INIT", "OPENDIR", "READDIR", "RELEASEDIR", "FSYNCDIR", "GETLK", "SETLK", "SETLKW",
        "ACCESS", "CREATE", "INTERRUPT", "BMAP", "DESTROY", "IOCTL", "POLL", "NOTIFY_REPLY",
        "BATCH_FORGET", "FALLOCATE", "READDIRPLUS", "RENAME2", "LSEEK", "COPY_FILE_RANGE",
        "SETUPMAPPING", "REMOVEMAPPING", "SYNCFS", "TMPFILE", "STATX"};
    for (int i = 0; i < OPCODE_NAMES.length; i++) {
      OPCODE_NAMES[i] = i < names.length && !names[i].isEmpty() ? names[i] : "OP_" + i;
    }
  }

  /** The protocol's name for an opcode, e.g. {@code LOOKUP}. */
  public static String opcodeName(int opcode) {
    return opcode >= 0 && opcode < OPCODE_NAMES.length ? OPCODE_NAMES[opcode] : "OP_" + opcode;
  }

  private final int fd;
  private final FuseFileSystem fs;
  private final Observer observer;
  private final List<Thread> threads = new ArrayList<>();
  private final CountDownLatch finished;
  private final AtomicLong requests = new AtomicLong();
  private volatile boolean destroyed;
  private volatile Throwable failure;
  private ConnectionInfo connection;
  private final String name; // in log lines: a process may serve several mounts

  private FuseSession(int fd, FuseFileSystem fs, int threadCount, Observer observer, String name) {
    this.fd = fd;
    this.name = Objects.requireNonNull(name, "name");
    this.fs = Objects.requireNonNull(fs, "fs");
    this.observer = observer;
    this.finished = new CountDownLatch(threadCount);
  }

  /**
   * Answers INIT on {@code fd} (blocking until the kernel sends it, i.e. right after mount) and
   * starts {@code threads} platform threads serving {@code fs}.
   *
   * @param fd an open, mounted {@code /dev/fuse} descriptor; the session closes it at the end
   */
  public static FuseSession start(int fd, FuseFileSystem fs, int threads, String name)
      throws IOException {
    return start(fd, fs, threads, name, null);
  }

  /** As {@link #start(int, FuseFileSystem, int, String)}, telling {@code observer} (if not null) about each request. */
  public static FuseSession start(int fd, FuseFileSystem fs, int threads, String name,
      Observer observer) throws IOException {
    if (threads < 1 || threads > 64) {
      throw new IllegalArgumentException("threads must be 1..64, got " + threads);
    }
    FuseSession session = new FuseSession(fd, fs, threads, observer, name);
    session.handshake();
    for (int i = 0; i < threads; i++) {
      Thread t = Thread.ofPlatform().name(name + "-" + i).daemon(true).unstarted(session::serve);
      session.threads.add(t);
    }
    session.threads.forEach(Thread::start);
    return session;
  }

  /** What INIT negotiated. */
  public Connection connection() {
    return connection;
  }

  /** Requests answered so far. */
  public long requestCount() {
    return requests.get();
  }

  /** Blocks until every serving thread has ended (the file system was unmounted). */
  public void awaitEnd() throws InterruptedException {
    finished.await();
  }

  /** Waits up to {@code millis} for the end; true if the session ended. */
  public boolean awaitEnd(long millis) throws InterruptedException {
    return finished.await(millis, java.util.concurrent.TimeUnit.MILLISECONDS);
  }

  /** The error that stopped a serving thread other than the normal end, if any. */
  public Throwable failure() {
    return failure;
  }

  /** Closes the device descriptor (after unmount); serving threads end at their next read. */
  @Override
  public void close() {
    Native.closeQuietly(fd);
  }

  // ---------------------------------------------------------------------------------- INIT

  private void handshake() throws IOException {
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment in = arena.allocate(IN_BUFFER, 4096);
      MemorySegment out = arena.allocate(256, 8);
      while (true) {
        long n = Native.read(fd, in, IN_BUFFER);
        if (n < IN_HEADER) {
          throw new FuseException(Errno.EPROTO, "short FUSE request: " + n + " bytes");
        }
        int opcode = in.get(JAVA_INT_UNALIGNED, 4);
        long unique = in.get(JAVA_LONG_UNALIGNED, 8);
        if (opcode != INIT) {
          reply(out, unique, -Errno.EIO, 0); // nothing else may come before INIT
          continue;
        }
        int major = in.get(JAVA_INT_UNALIGNED, IN_HEADER);
        int minor = in.get(JAVA_INT_UNALIGNED, IN_HEADER + 4);
        int maxReadahead = in.get(JAVA_INT_UNALIGNED, IN_HEADER + 8);
        long flags = Integer.toUnsignedLong(in.get(JAVA_INT_UNALIGNED, IN_HEADER + 12));
        if ((flags & INIT_EXT) != 0 && n >= IN_HEADER + 20) {
          flags |= Integer.toUnsignedLong(in.get(JAVA_INT_UNALIGNED, IN_HEADER + 16)) << 32;
        }
        if (major != KERNEL_MAJOR) {
          // A newer major: answer with ours and wait for the kernel to retry; an older one: fail.
          out.fill((byte) 0);
          out.set(JAVA_INT_UNALIGNED, OUT_HEADER, KERNEL_MAJOR);
          out.set(JAVA_INT_UNALIGNED, OUT_HEADER + 4, OUR_MINOR);
          reply(out, unique, major < KERNEL_MAJOR ? -Errno.EPROTO : 0, 8);
          if (major < KERNEL_MAJOR) {
            throw new FuseException(Errno.EPROTO, "kernel speaks FUSE " + major + "." + minor);
          }
          continue;
        }
        FuseFileSystem.Features want = fs.features();
        long wanted = ASYNC_READ | BIG_WRITES | DO_READDIRPLUS | PARALLEL_DIROPS | MAX_PAGES_FLAG
            | INIT_EXT | ATOMIC_O_TRUNC;
        if (want.writable()) {
          wanted |= WRITEBACK_CACHE;
        } else {
          wanted |= CACHE_SYMLINKS;
        }
        boolean privileged = Native.geteuid() == 0;
        if (want.passthrough() && !want.writable() && privileged) {
          wanted |= PASSTHROUGH; // the kernel refuses passthrough together with writeback cache
        }
        long agreed = flags & wanted;
        int useMinor = Math.min(minor, OUR_MINOR);
        out.fill((byte) 0);
        int b = OUT_HEADER;
        out.set(JAVA_INT_UNALIGNED, b, KERNEL_MAJOR);
        out.set(JAVA_INT_UNALIGNED, b + 4, useMinor);
        out.set(JAVA_INT_UNALIGNED, b + 8, maxReadahead);
        out.set(JAVA_INT_UNALIGNED, b + 12, (int) agreed);
        out.set(JAVA_SHORT_UNALIGNED, b + 16, (short) 64); // max_background
        out.set(JAVA_SHORT_UNALIGNED, b + 18, (short) 48); // congestion_threshold
        out.set(JAVA_INT_UNALIGNED, b + 20, MAX_WRITE);
        out.set(JAVA_INT_UNALIGNED, b + 24, 1); // time_gran: nanoseconds
        out.set(JAVA_SHORT_UNALIGNED, b + 28, (short) MAX_PAGES);
        out.set(JAVA_INT_UNALIGNED, b + 32, (int) (agreed >>> 32));
        boolean passthrough = (agreed & PASSTHROUGH) != 0;
        out.set(JAVA_INT_UNALIGNED, b + 36, passthrough ? 1 : 0); // max_stack_depth
        connection = new ConnectionInfo(useMinor, passthrough, (agreed & WRITEBACK_CACHE) != 0,
            MAX_WRITE);
        fs.init(connection);
        reply(out, unique, 0, 64);
        LOG.log(Level.DEBUG, () -> "FUSE " + major + "." + minor + " kernel, using 7." + useMinor
            + ", flags 0x" + Long.toHexString(agreed));
        return;
      }
    }
  }

  private final class ConnectionInfo implements Connection {
    private final int minor;
    private final boolean passthrough;
    private final boolean writeback;
    private final int maxWrite;

    ConnectionInfo(int minor, boolean passthrough, boolean writeback, int maxWrite) {
      this.minor = minor;
      this.passthrough = passthrough;
      this.writeback = writeback;
      this.maxWrite = maxWrite;
    }

    @Override
    public int protocolMinor() {
      return minor;
    }

    @Override
    public boolean passthrough() {
      return passthrough;
    }

    @Override
    public boolean writebackCache() {
      return writeback;
    }

    @Override
    public int maxWrite() {
      return maxWrite;
    }

    @Override
    public int openBacking(Path file, boolean writable) throws IOException {
      if (!passthrough) {
        throw new FuseException(Errno.EOPNOTSUPP, "passthrough was not negotiated");
      }
      int backing = Native.open(file.toString(),
          (writable ? Native.O_RDWR : Native.O_RDONLY) | Native.O_CLOEXEC, 0);
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment map = arena.allocate(16, 8); // struct fuse_backing_map {fd, flags, padding}
        map.set(JAVA_INT_UNALIGNED, 0, backing);
        return Native.ioctl(fd, FUSE_DEV_IOC_BACKING_OPEN, map);
      } finally {
        Native.closeQuietly(backing); // the kernel holds its own reference to the file
      }
    }

    @Override
    public void closeBacking(int backingId) throws IOException {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment id = arena.allocate(4, 4);
        id.set(JAVA_INT_UNALIGNED, 0, backingId);
        Native.ioctl(fd, FUSE_DEV_IOC_BACKING_CLOSE, id);
      }
    }
  }

  // ------------------------------------------------------------------------------- serving

  private void serve() {
    try (Arena arena = Arena.ofConfined()) {
      Worker w = new Worker(arena.allocate(IN_BUFFER, 4096), arena.allocate(OUT_BUFFER, 4096));
      while (!destroyed) {
        long n;
        try {
          n = Native.read(fd, w.in, IN_BUFFER);
        } catch (FuseException e) {
          if (e.errno() == Errno.ENOENT || e.errno() == Errno.EAGAIN) {
            continue; // the request was interrupted before we read it
          }
          if (e.errno() != Errno.ENODEV && e.errno() != Errno.EBADF) {
            failure = e;
            LOG.log(Level.ERROR, name + ": FUSE session ended: " + e.getMessage());
          }
          break; // ENODEV: unmounted, the normal end
        }
        if (n < IN_HEADER) {
          LOG.log(Level.WARNING, name + ": ignoring a short FUSE request of " + n + " bytes");
          continue;
        }
        w.handle(n);
      }
    } catch (Throwable t) {
      failure = t;
      LOG.log(Level.ERROR, name + ": FUSE session thread failed", t);
    } finally {
      finished.countDown();
    }
  }

  private void reply(MemorySegment out, long unique, int error, int bodyLength)
      throws FuseException {
    int length = OUT_HEADER + (error == 0 ? bodyLength : 0);
    out.set(JAVA_INT_UNALIGNED, 0, length);
    out.set(JAVA_INT_UNALIGNED, 4, error);
    out.set(JAVA_LONG_UNALIGNED, 8, unique);
    try {
      Native.write(fd, out, length);
    } catch (FuseException e) {
      if (e.errno() != Errno.ENOENT) { // ENOENT: the request was interrupted meanwhile
        throw e;
      }
    }
  }

  /** One serving thread's buffers and the decoding of one request. */
  private final class Worker implements DirSink {
    final MemorySegment in;
    final MemorySegment out;
    // the READDIR being answered
    private int dirPos;
    private int dirLimit;
    private boolean dirPlus;

    Worker(MemorySegment in, MemorySegment out) {
      this.in = in;
      this.out = out;
    }

    void handle(long length) {
      int opcode = in.get(JAVA_INT_UNALIGNED, 4);
      long unique = in.get(JAVA_LONG_UNALIGNED, 8);
      long node = in.get(JAVA_LONG_UNALIGNED, 16);
      RequestContext ctx = new RequestContext(
          in.get(JAVA_INT_UNALIGNED, 24), in.get(JAVA_INT_UNALIGNED, 28),
          in.get(JAVA_INT_UNALIGNED, 32));
      requests.incrementAndGet();
      long started = observer == null ? 0 : System.nanoTime();
      int body;
      try {
        body = dispatch(opcode, node, ctx, (int) length);
      } catch (IOException e) {
        body = -Errno.of(e);
        if (body == -Errno.EIO) {
          LOG.log(Level.WARNING, name + ": FUSE opcode " + opcode + " on node " + node + ": " + e);
        }
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, name + ": FUSE opcode " + opcode + " on node " + node + " failed", e);
        body = -Errno.EIO;
      }
      if (body != NO_REPLY) {
        try {
          reply(out, unique, Math.min(body, 0), Math.max(body, 0));
        } catch (FuseException e) {
          if (e.errno() != Errno.ENODEV) {
            LOG.log(Level.WARNING, name + ": FUSE reply to opcode " + opcode + ": " + e.getMessage());
          }
        }
      }
      if (observer != null) {
        observer.answered(opcode, System.nanoTime() - started);
      }
    }

    private static final int NO_REPLY = Integer.MIN_VALUE;

    /** Handles a request; returns the reply body length, or -errno, or NO_REPLY. */
    private int dispatch(int opcode, long node, RequestContext ctx, int length)
        throws IOException {
      final int p = IN_HEADER; // start of the request body
      switch (opcode) {
        case LOOKUP -> {
          String name = name(p, length);
          if (name == null) {
            return -Errno.ENOENT;
          }
          return entry(fs.lookup(ctx, node, name));
        }
        case FORGET -> {
          fs.forget(node, in.get(JAVA_LONG_UNALIGNED, p));
          return NO_REPLY;
        }
        case BATCH_FORGET -> {
          int count = in.get(JAVA_INT_UNALIGNED, p);
          for (int i = 0; i < count && p + 8 + 16 * (i + 1) <= length; i++) {
            int at = p + 8 + 16 * i;
            fs.forget(in.get(JAVA_LONG_UNALIGNED, at), in.get(JAVA_LONG_UNALIGNED, at + 8));
          }
          return NO_REPLY;
        }
        case GETATTR -> {
          return attr(fs.getattr(ctx, node));
        }
        case SETATTR -> {
          SetAttr change = new SetAttr(in.get(JAVA_INT_UNALIGNED, p),
              in.get(JAVA_LONG_UNALIGNED, p + 8), in.get(JAVA_LONG_UNALIGNED, p + 16),
              in.get(JAVA_INT_UNALIGNED, p + 68), in.get(JAVA_LONG_UNALIGNED, p + 40),
              in.get(JAVA_INT_UNALIGNED, p + 60));
          return attr(fs.setattr(ctx, node, change));
        }
        case READLINK -> {
          byte[] target = fs.readlink(ctx, node);
          MemorySegment.copy(target, 0, out, JAVA_BYTE, OUT_HEADER, target.length);
          return target.length;
        }
        case SYMLINK -> {
          int nameEnd = nul(p, length);
          String name = text(p, nameEnd);
          String target = text(nameEnd + 1, nul(nameEnd + 1, length));
          if (name == null || target == null) {
            return -Errno.EINVAL;
          }
          return entry(fs.symlink(ctx, node, name, target));
        }
        case MKNOD -> {
          String name = name(p + 16, length);
          if (name == null) {
            return -Errno.EINVAL;
          }
          return entry(fs.mknod(ctx, node, name, in.get(JAVA_INT_UNALIGNED, p),
              in.get(JAVA_INT_UNALIGNED, p + 4)));
        }
        case MKDIR -> {
          String name = name(p + 8, length);
          if (name == null) {
            return -Errno.EINVAL;
          }
          int mode = in.get(JAVA_INT_UNALIGNED, p) & ~in.get(JAVA_INT_UNALIGNED, p + 4);
          return entry(fs.mkdir(ctx, node, name, mode));
        }
        case UNLINK, RMDIR -> {
          String name = name(p, length);
          if (name == null) {
            return -Errno.ENOENT;
          }
          if (opcode == UNLINK) {
            fs.unlink(ctx, node, name);
          } else {
            fs.rmdir(ctx, node, name);
          }
          return 0;
        }
        case RENAME, RENAME2 -> {
          long newDir = in.get(JAVA_LONG_UNALIGNED, p);
          int flags = opcode == RENAME2 ? in.get(JAVA_INT_UNALIGNED, p + 8) : 0;
          int at = p + (opcode == RENAME2 ? 16 : 8);
          int oldEnd = nul(at, length);
          String oldName = text(at, oldEnd);
          String newName = text(oldEnd + 1, nul(oldEnd + 1, length));
          if (oldName == null) {
            return -Errno.ENOENT;
          }
          if (newName == null) {
            return -Errno.EINVAL;
          }
          fs.rename(ctx, node, oldName, newDir, newName, flags);
          return 0;
        }
        case OPEN, OPENDIR -> {
          int flags = in.get(JAVA_INT_UNALIGNED, p);
          return open(opcode == OPEN ? fs.open(ctx, node, flags) : fs.opendir(ctx, node, flags), 0);
        }
        case CREATE -> {
          String name = name(p + 16, length);
          if (name == null) {
            return -Errno.EINVAL;
          }
          int flags = in.get(JAVA_INT_UNALIGNED, p);
          int mode = in.get(JAVA_INT_UNALIGNED, p + 4) & ~in.get(JAVA_INT_UNALIGNED, p + 8);
          FuseFileSystem.Created created = fs.create(ctx, node, name, flags, mode);
          int size = entry(created.entry());
          return size + open(created.open(), size);
        }
        case READ -> {
          long fh = in.get(JAVA_LONG_UNALIGNED, p);
          long offset = in.get(JAVA_LONG_UNALIGNED, p + 8);
          int size = Math.min(in.get(JAVA_INT_UNALIGNED, p + 16), OUT_BUFFER - OUT_HEADER);
          return fs.read(ctx, node, fh, offset, size, out.asSlice(OUT_HEADER, size));
        }
        case WRITE -> {
          long fh = in.get(JAVA_LONG_UNALIGNED, p);
          long offset = in.get(JAVA_LONG_UNALIGNED, p + 8);
          int size = in.get(JAVA_INT_UNALIGNED, p + 16);
          int writeFlags = in.get(JAVA_INT_UNALIGNED, p + 20);
          if (p + 40 + (long) size > length) {
            return -Errno.EINVAL;
          }
          int written = fs.write(ctx, node, fh, offset, in.asSlice(p + 40, size), writeFlags);
          out.set(JAVA_INT_UNALIGNED, OUT_HEADER, written);
          out.set(JAVA_INT_UNALIGNED, OUT_HEADER + 4, 0);
          return 8;
        }
        case STATFS -> {
          StatFs s = fs.statfs(ctx, node);
          MemorySegment o = out.asSlice(OUT_HEADER, 80);
          o.fill((byte) 0);
          o.set(JAVA_LONG_UNALIGNED, 0, s.blocks());
          o.set(JAVA_LONG_UNALIGNED, 8, s.blocksFree());
          o.set(JAVA_LONG_UNALIGNED, 16, s.blocksAvailable());
          o.set(JAVA_LONG_UNALIGNED, 24, s.files());
          o.set(JAVA_LONG_UNALIGNED, 32, s.filesFree());
          o.set(JAVA_INT_UNALIGNED, 40, s.blockSize());
          o.set(JAVA_INT_UNALIGNED, 44, s.maxNameLength());
          o.set(JAVA_INT_UNALIGNED, 48, s.blockSize());
          return 80;
        }
        case RELEASE, RELEASEDIR -> {
          long fh = in.get(JAVA_LONG_UNALIGNED, p);
          int flags = in.get(JAVA_INT_UNALIGNED, p + 8);
          if (opcode == RELEASE) {
            fs.release(ctx, node, fh, flags);
          } else {
            fs.releasedir(ctx, node, fh);
          }
          return 0;
        }
        case FSYNC -> {
          fs.fsync(ctx, node, in.get(JAVA_LONG_UNALIGNED, p),
              (in.get(JAVA_INT_UNALIGNED, p + 8) & 1) != 0);
          return 0;
        }
        case FLUSH -> {
          fs.flush(ctx, node, in.get(JAVA_LONG_UNALIGNED, p));
          return 0;
        }
        case GETXATTR -> {
          int size = in.get(JAVA_INT_UNALIGNED, p);
          String name = name(p + 8, length);
          if (name == null) {
            return -Errno.ENODATA;
          }
          return sized(fs.getxattr(ctx, node, name), size);
        }
        case LISTXATTR -> {
          int size = in.get(JAVA_INT_UNALIGNED, p);
          java.io.ByteArrayOutputStream names = new java.io.ByteArrayOutputStream();
          for (String n : fs.listxattr(ctx, node)) {
            names.writeBytes(n.getBytes(StandardCharsets.UTF_8));
            names.write(0);
          }
          return sized(names.toByteArray(), size);
        }
        case ACCESS -> {
          fs.access(ctx, node, in.get(JAVA_INT_UNALIGNED, p));
          return 0;
        }
        case READDIR, READDIRPLUS -> {
          long fh = in.get(JAVA_LONG_UNALIGNED, p);
          long offset = in.get(JAVA_LONG_UNALIGNED, p + 8);
          int size = Math.min(in.get(JAVA_INT_UNALIGNED, p + 16), OUT_BUFFER - OUT_HEADER);
          dirPos = OUT_HEADER;
          dirLimit = OUT_HEADER + size;
          dirPlus = opcode == READDIRPLUS;
          fs.readdir(ctx, node, fh, offset, this);
          return dirPos - OUT_HEADER;
        }
        case INTERRUPT -> {
          return NO_REPLY; // nothing we run waits long enough to be worth aborting
        }
        case DESTROY -> {
          destroyed = true;
          fs.destroy();
          return 0;
        }
        case INIT -> {
          return -Errno.EPROTO; // INIT was answered at start
        }
        default -> {
          return -Errno.ENOSYS;
        }
      }
    }

    /** getxattr/listxattr: the size alone when asked with size 0, ERANGE if it does not fit. */
    private int sized(byte[] value, int size) {
      if (size == 0) {
        out.set(JAVA_INT_UNALIGNED, OUT_HEADER, value.length);
        out.set(JAVA_INT_UNALIGNED, OUT_HEADER + 4, 0);
        return 8;
      }
      if (value.length > size) {
        return -Errno.ERANGE;
      }
      MemorySegment.copy(value, 0, out, JAVA_BYTE, OUT_HEADER, value.length);
      return value.length;
    }

    private int entry(EntryReply e) {
      writeEntry(out, OUT_HEADER, e);
      return ENTRY_OUT_SIZE;
    }

    private int attr(FuseFileSystem.AttrReply a) {
      out.set(JAVA_LONG_UNALIGNED, OUT_HEADER, a.timeoutNanos() / 1_000_000_000L);
      out.set(JAVA_INT_UNALIGNED, OUT_HEADER + 8, (int) (a.timeoutNanos() % 1_000_000_000L));
      out.set(JAVA_INT_UNALIGNED, OUT_HEADER + 12, 0);
      writeAttr(out, OUT_HEADER + 16, a.attr());
      return 16 + ATTR_SIZE;
    }

    private int open(OpenReply o, int at) {
      int b = OUT_HEADER + at;
      out.set(JAVA_LONG_UNALIGNED, b, o.fh());
      out.set(JAVA_INT_UNALIGNED, b + 8, o.openFlags());
      out.set(JAVA_INT_UNALIGNED, b + 12, o.backingId());
      return 16;
    }

    /** Index of the NUL ending the string at {@code from}, or {@code limit} if none. */
    private int nul(int from, int limit) {
      int i = from;
      while (i < limit && in.get(JAVA_BYTE, i) != 0) {
        i++;
      }
      return i;
    }

    private String name(int from, int limit) {
      return text(from, nul(from, limit));
    }

    /** The UTF-8 text between two offsets, or null if it is not valid UTF-8 or is empty. */
    private String text(int from, int to) {
      if (to <= from) {
        return null;
      }
      byte[] bytes = in.asSlice(from, to - from).toArray(JAVA_BYTE);
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
      } catch (java.nio.charset.CharacterCodingException e) {
        return null;
      }
    }

    // ------------------------------------------------------------------------- DirSink

    @Override
    public boolean plus() {
      return dirPlus;
    }

    @Override
    public boolean fits(String name) {
      int n = name.getBytes(StandardCharsets.UTF_8).length;
      return dirPos + (dirPlus ? direntPlusSize(n) : direntSize(n)) <= dirLimit;
    }

    @Override
    public boolean add(String name, long ino, int direntType, long nextOffset) {
      byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
      int size = align8(DIRENT_HEADER + bytes.length);
      if (dirPos + size > dirLimit) {
        return false;
      }
      writeDirent(dirPos, bytes, ino, direntType, nextOffset, size);
      dirPos += size;
      return true;
    }

    @Override
    public boolean addPlus(String name, EntryReply entry, int direntType, long ino,
        long nextOffset) {
      byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
      int size = ENTRY_OUT_SIZE + align8(DIRENT_HEADER + bytes.length);
      if (dirPos + size > dirLimit) {
        return false;
      }
      if (entry == null) {
        out.asSlice(dirPos, ENTRY_OUT_SIZE).fill((byte) 0); // nodeid 0: name only, no lookup
      } else {
        writeEntry(out, dirPos, entry);
      }
      writeDirent(dirPos + ENTRY_OUT_SIZE, bytes, ino, direntType, nextOffset,
          size - ENTRY_OUT_SIZE);
      dirPos += size;
      return true;
    }

    private void writeDirent(int at, byte[] name, long ino, int type, long off, int size) {
      out.set(JAVA_LONG_UNALIGNED, at, ino);
      out.set(JAVA_LONG_UNALIGNED, at + 8, off);
      out.set(JAVA_INT_UNALIGNED, at + 16, name.length);
      out.set(JAVA_INT_UNALIGNED, at + 20, type);
      MemorySegment.copy(name, 0, out, JAVA_BYTE, at + DIRENT_HEADER, name.length);
      for (int i = at + DIRENT_HEADER + name.length; i < at + size; i++) {
        out.set(JAVA_BYTE, i, (byte) 0);
      }
    }
  }

  /** Bytes one plain READDIR entry named {@code nameBytes} takes. */
  public static int direntSize(int nameBytes) {
    return align8(DIRENT_HEADER + nameBytes);
  }

  /** Bytes one READDIRPLUS entry named {@code nameBytes} takes. */
  public static int direntPlusSize(int nameBytes) {
    return ENTRY_OUT_SIZE + align8(DIRENT_HEADER + nameBytes);
  }

  private static int align8(int n) {
    return (n + 7) & ~7;
  }

  private static void writeEntry(MemorySegment out, int at, EntryReply e) {
    out.set(JAVA_LONG_UNALIGNED, at, e.nodeId());
    out.set(JAVA_LONG_UNALIGNED, at + 8, 0); // generation: ids are never reused in a session
    out.set(JAVA_LONG_UNALIGNED, at + 16, e.entryTimeoutNanos() / 1_000_000_000L);
    out.set(JAVA_LONG_UNALIGNED, at + 24, e.attrTimeoutNanos() / 1_000_000_000L);
    out.set(JAVA_INT_UNALIGNED, at + 32, (int) (e.entryTimeoutNanos() % 1_000_000_000L));
    out.set(JAVA_INT_UNALIGNED, at + 36, (int) (e.attrTimeoutNanos() % 1_000_000_000L));
    writeAttr(out, at + 40, e.attr());
  }

  private static void writeAttr(MemorySegment out, int at, Attr a) {
    out.set(JAVA_LONG_UNALIGNED, at, a.ino());
    out.set(JAVA_LONG_UNALIGNED, at + 8, a.size());
    out.set(JAVA_LONG_UNALIGNED, at + 16, (a.size() + 511) / 512);
    out.set(JAVA_LONG_UNALIGNED, at + 24, a.mtimeSeconds());
    out.set(JAVA_LONG_UNALIGNED, at + 32, a.mtimeSeconds());
    out.set(JAVA_LONG_UNALIGNED, at + 40, a.mtimeSeconds());
    out.set(JAVA_INT_UNALIGNED, at + 48, a.mtimeNanos());
    out.set(JAVA_INT_UNALIGNED, at + 52, a.mtimeNanos());
    out.set(JAVA_INT_UNALIGNED, at + 56, a.mtimeNanos());
    out.set(JAVA_INT_UNALIGNED, at + 60, a.mode());
    out.set(JAVA_INT_UNALIGNED, at + 64, a.nlink());
    out.set(JAVA_INT_UNALIGNED, at + 68, a.uid());
    out.set(JAVA_INT_UNALIGNED, at + 72, a.gid());
    out.set(JAVA_INT_UNALIGNED, at + 76, 0); // rdev
    out.set(JAVA_INT_UNALIGNED, at + 80, 4096); // blksize
    out.set(JAVA_INT_UNALIGNED, at + 84, 0); // flags
  }
}
