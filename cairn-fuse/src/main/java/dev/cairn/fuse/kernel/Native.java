package dev.cairn.fuse.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.StandardCharsets;

/**
 * The few libc calls the FUSE session needs, bound once through the FFM API with {@code errno}
 * captured. Every method returns the call's result or throws a {@link FuseException} carrying the
 * errno and naming the call, so callers never read a stale errno.
 *
 * <p>Thread-safe: each thread has its own errno capture buffer; no call allocates on the Java
 * heap except when it fails.
 */
public final class Native {

  public static final int O_RDONLY = 0;
  public static final int O_WRONLY = 1;
  public static final int O_RDWR = 2;
  public static final int O_ACCMODE = 3;
  public static final int O_CREAT = 0100;
  public static final int O_EXCL = 0200;
  public static final int O_TRUNC = 01000;
  public static final int O_APPEND = 02000;
  public static final int O_CLOEXEC = 02000000;

  public static final long MS_RDONLY = 1;
  public static final long MS_NOSUID = 2;
  public static final long MS_NODEV = 4;
  public static final int MNT_DETACH = 2;

  private static final Linker LINKER = Linker.nativeLinker();
  private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
  private static final VarHandle ERRNO =
      CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
  private static final ThreadLocal<MemorySegment> CAPTURE_BUFFER =
      ThreadLocal.withInitial(() -> Arena.ofAuto().allocate(CAPTURE));

  /** Bound on first use: creating a downcall stub costs milliseconds on a cold JVM. */
  private static final class OPEN_ { static final MethodHandle H = bind("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), 2); }
  private static final class READ_ { static final MethodHandle H = bind("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1); }
  private static final class WRITE_ { static final MethodHandle H = bind("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG), -1); }
  private static final class PREAD_ { static final MethodHandle H = bind("pread", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1); }
  private static final class PWRITE_ { static final MethodHandle H = bind("pwrite", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_LONG), -1); }
  private static final class CLOSE_ { static final MethodHandle H = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1); }
  private static final class FTRUNCATE_ { static final MethodHandle H = bind("ftruncate", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG), -1); }
  private static final class LSEEK_ { static final MethodHandle H = bind("lseek", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, JAVA_LONG, JAVA_INT), -1); }
  private static final class FSYNC_ { static final MethodHandle H = bind("fsync", FunctionDescriptor.of(JAVA_INT, JAVA_INT), -1); }
  private static final class IOCTL_ { static final MethodHandle H = bind("ioctl", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS), 2); }
  private static final class MOUNT_ { static final MethodHandle H = bind("mount", FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), -1); }
  private static final class UMOUNT2_ { static final MethodHandle H = bind("umount2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), -1); }
  private static final class SOCKETPAIR_ { static final MethodHandle H = bind("socketpair", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), -1); }
  private static final class RECVMSG_ { static final MethodHandle H = bind("recvmsg", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), -1); }
  private static final class GETUID_ { static final MethodHandle H = bindPlain("getuid", FunctionDescriptor.of(JAVA_INT)); }
  private static final class GETGID_ { static final MethodHandle H = bindPlain("getgid", FunctionDescriptor.of(JAVA_INT)); }
  private static final class GETEUID_ { static final MethodHandle H = bindPlain("geteuid", FunctionDescriptor.of(JAVA_INT)); }
  private static final class STRERROR_ { static final MethodHandle H = bindPlain("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT)); }

  private Native() {}

  private static MethodHandle bind(String name, FunctionDescriptor descriptor, int firstVariadic) {
    MemorySegment symbol = LINKER.defaultLookup().find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    return firstVariadic < 0
        ? LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"))
        : LINKER.downcallHandle(symbol, descriptor, Linker.Option.captureCallState("errno"),
            Linker.Option.firstVariadicArg(firstVariadic));
  }

  private static MethodHandle bindPlain(String name, FunctionDescriptor descriptor) {
    MemorySegment symbol = LINKER.defaultLookup().find(name)
        .orElseThrow(() -> new UnsatisfiedLinkError("libc has no " + name));
    return LINKER.downcallHandle(symbol, descriptor);
  }

  private static MemorySegment capture() {
    return CAPTURE_BUFFER.get();
  }

  private static int errno(MemorySegment capture) {
    return (int) ERRNO.get(capture, 0L);
  }

  private static FuseException failure(String call, MemorySegment capture) {
    int errno = errno(capture);
    return new FuseException(errno, call + ": " + describe(errno));
  }

  private static RuntimeException unexpected(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }

  /** The C library's text for an errno value, e.g. "No such file or directory". */
  public static String describe(int errno) {
    try {
      MemorySegment text = (MemorySegment) STRERROR_.H.invokeExact(errno);
      return text.reinterpret(1024).getString(0, StandardCharsets.UTF_8) + " (errno " + errno + ")";
    } catch (Throwable t) {
      return "errno " + errno;
    }
  }

  /** open(2) of a path given as a NUL-terminated native string. */
  public static int open(MemorySegment path, int flags, int mode) throws FuseException {
    MemorySegment c = capture();
    int fd;
    try {
      fd = (int) OPEN_.H.invokeExact(c, path, flags, mode);
    } catch (Throwable t) {
      throw unexpected(t);
    }
    if (fd < 0) {
      throw failure("open " + path.getString(0, StandardCharsets.UTF_8), c);
    }
    return fd;
  }

  /** open(2) of a Java path string (allocates the C string in a confined arena). */
  public static int open(String path, int flags, int mode) throws FuseException {
    try (Arena arena = Arena.ofConfined()) {
      return open(arena.allocateFrom(path, StandardCharsets.UTF_8), flags, mode);
    }
  }

  /** read(2); retries EINTR. */
  public static long read(int fd, MemorySegment buffer, long size) throws FuseException {
    MemorySegment c = capture();
    while (true) {
      long n;
      try {
        n = (long) READ_.H.invokeExact(c, fd, buffer, size);
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (n >= 0) {
        return n;
      }
      if (errno(c) != Errno.EINTR) {
        throw failure("read", c);
      }
    }
  }

  /** write(2); retries EINTR. */
  public static long write(int fd, MemorySegment buffer, long size) throws FuseException {
    MemorySegment c = capture();
    while (true) {
      long n;
      try {
        n = (long) WRITE_.H.invokeExact(c, fd, buffer, size);
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (n >= 0) {
        return n;
      }
      if (errno(c) != Errno.EINTR) {
        throw failure("write", c);
      }
    }
  }

  /** pread(2) until {@code size} bytes or end of file; returns the bytes read. */
  public static long pread(int fd, MemorySegment buffer, long size, long offset) throws FuseException {
    MemorySegment c = capture();
    long done = 0;
    while (done < size) {
      long n;
      try {
        n = (long) PREAD_.H.invokeExact(c, fd, buffer.asSlice(done), size - done, offset + done);
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (n == 0) {
        break;
      }
      if (n < 0) {
        if (errno(c) == Errno.EINTR) {
          continue;
        }
        throw failure("pread", c);
      }
      done += n;
    }
    return done;
  }

  /** pwrite(2) of all {@code size} bytes. */
  public static void pwrite(int fd, MemorySegment buffer, long size, long offset) throws FuseException {
    MemorySegment c = capture();
    long done = 0;
    while (done < size) {
      long n;
      try {
        n = (long) PWRITE_.H.invokeExact(c, fd, buffer.asSlice(done), size - done, offset + done);
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (n < 0) {
        if (errno(c) == Errno.EINTR) {
          continue;
        }
        throw failure("pwrite", c);
      }
      done += n;
    }
  }

  public static void ftruncate(int fd, long size) throws FuseException {
    MemorySegment c = capture();
    int r;
    try {
      r = (int) FTRUNCATE_.H.invokeExact(c, fd, size);
    } catch (Throwable t) {
      throw unexpected(t);
    }
    if (r < 0) {
      throw failure("ftruncate", c);
    }
  }

  /** The size of an open file (lseek to its end). */
  public static long size(int fd) throws FuseException {
    MemorySegment c = capture();
    long r;
    try {
      r = (long) LSEEK_.H.invokeExact(c, fd, 0L, 2 /* SEEK_END */);
    } catch (Throwable t) {
      throw unexpected(t);
    }
    if (r < 0) {
      throw failure("lseek", c);
    }
    return r;
  }

  public static void fsync(int fd) throws FuseException {
    MemorySegment c = capture();
    int r;
    try {
      r = (int) FSYNC_.H.invokeExact(c, fd);
    } catch (Throwable t) {
      throw unexpected(t);
    }
    if (r < 0) {
      throw failure("fsync", c);
    }
  }

  /** close(2); errors are reported, EINTR is not retried (the fd is gone either way). */
  public static void close(int fd) throws FuseException {
    MemorySegment c = capture();
    int r;
    try {
      r = (int) CLOSE_.H.invokeExact(c, fd);
    } catch (Throwable t) {
      throw unexpected(t);
    }
    if (r < 0 && errno(c) != Errno.EINTR) {
      throw failure("close", c);
    }
  }

  /** close(2) that never throws, for cleanup paths. */
  public static void closeQuietly(int fd) {
    try {
      close(fd);
    } catch (FuseException ignored) {
      // cleanup only
    }
  }

  /** ioctl(2) with a pointer argument; returns the call's non-negative result. */
  public static int ioctl(int fd, long request, MemorySegment arg) throws FuseException {
    MemorySegment c = capture();
    int r;
    try {
      r = (int) IOCTL_.H.invokeExact(c, fd, request, arg);
    } catch (Throwable t) {
      throw unexpected(t);
    }
    if (r < 0) {
      throw failure("ioctl 0x" + Long.toHexString(request), c);
    }
    return r;
  }

  /** mount(2). */
  public static void mount(String source, String target, String type, long flags, String data)
      throws FuseException {
    MemorySegment c = capture();
    try (Arena arena = Arena.ofConfined()) {
      int r;
      try {
        r = (int) MOUNT_.H.invokeExact(c, arena.allocateFrom(source), arena.allocateFrom(target),
            arena.allocateFrom(type), flags, arena.allocateFrom(data));
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (r < 0) {
        throw failure("mount " + target, c);
      }
    }
  }

  /** umount2(2). */
  public static void umount2(String target, int flags) throws FuseException {
    MemorySegment c = capture();
    try (Arena arena = Arena.ofConfined()) {
      int r;
      try {
        r = (int) UMOUNT2_.H.invokeExact(c, arena.allocateFrom(target), flags);
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (r < 0) {
        throw failure("umount " + target, c);
      }
    }
  }

  /** socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC): two connected descriptors. */
  public static int[] unixSocketPair() throws FuseException {
    MemorySegment c = capture();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment fds = arena.allocate(JAVA_INT, 2);
      int r;
      try {
        r = (int) SOCKETPAIR_.H.invokeExact(c, 1 /* AF_UNIX */, 1 | 02000000 /* SOCK_STREAM|CLOEXEC */, 0, fds);
      } catch (Throwable t) {
        throw unexpected(t);
      }
      if (r < 0) {
        throw failure("socketpair", c);
      }
      return new int[] {fds.getAtIndex(JAVA_INT, 0), fds.getAtIndex(JAVA_INT, 1)};
    }
  }

  /**
   * Receives one file descriptor sent with {@code SCM_RIGHTS} on a Unix socket (how fusermount3
   * hands over the /dev/fuse descriptor it opened and mounted).
   *
   * @return the received descriptor, or -1 if the peer closed the socket without sending one
   */
  public static int receiveFd(int socket) throws FuseException {
    MemorySegment c = capture();
    try (Arena arena = Arena.ofConfined()) {
      MemorySegment data = arena.allocate(1);
      MemorySegment iov = arena.allocate(16, 8);
      iov.set(ADDRESS, 0, data);
      iov.set(JAVA_LONG, 8, 1);
      MemorySegment control = arena.allocate(64, 8);
      MemorySegment msg = arena.allocate(56, 8); // struct msghdr on x86_64 / aarch64
      msg.set(ADDRESS, 16, iov);
      msg.set(JAVA_LONG, 24, 1);
      msg.set(ADDRESS, 32, control);
      msg.set(JAVA_LONG, 40, control.byteSize());
      long n;
      while (true) {
        try {
          n = (long) RECVMSG_.H.invokeExact(c, socket, msg, 0x40000000 /* MSG_CMSG_CLOEXEC */);
        } catch (Throwable t) {
          throw unexpected(t);
        }
        if (n >= 0 || errno(c) != Errno.EINTR) {
          break;
        }
      }
      if (n < 0) {
        throw failure("recvmsg", c);
      }
      long controlLength = msg.get(JAVA_LONG, 40);
      if (n == 0 || controlLength < 20) {
        return -1;
      }
      long cmsgLen = control.get(JAVA_LONG, 0);
      int level = control.get(JAVA_INT, 8);
      int type = control.get(JAVA_INT, 12);
      if (level != 1 /* SOL_SOCKET */ || type != 1 /* SCM_RIGHTS */ || cmsgLen < 20) {
        throw new FuseException(Errno.EPROTO, "recvmsg: expected one SCM_RIGHTS descriptor");
      }
      return control.get(JAVA_INT, 16);
    }
  }

  public static int getuid() {
    try {
      return (int) GETUID_.H.invokeExact();
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  public static int getgid() {
    try {
      return (int) GETGID_.H.invokeExact();
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }

  public static int geteuid() {
    try {
      return (int) GETEUID_.H.invokeExact();
    } catch (Throwable t) {
      throw unexpected(t);
    }
  }
}
