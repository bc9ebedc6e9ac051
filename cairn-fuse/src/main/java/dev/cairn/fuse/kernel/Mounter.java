package dev.cairn.fuse.kernel;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Creates and removes FUSE mounts: with {@code mount(2)} when the process is root, else through
 * the setuid {@code fusermount3} helper, which mounts and hands the {@code /dev/fuse} descriptor
 * back over a Unix socket ({@code _FUSE_COMMFD}, {@code SCM_RIGHTS}). The helper runs with a fixed
 * argument vector via {@code posix_spawn}, never through a shell.
 */
public final class Mounter {

  /** How to mount. */
  public enum Method {
    /** mount(2) if root, else fusermount3. */
    AUTO,
    /** mount(2); needs CAP_SYS_ADMIN. */
    SYSCALL,
    /** The fusermount3 helper (works for any user allowed to use FUSE). */
    FUSERMOUNT
  }

  /**
   * Mount settings.
   *
   * @param readOnly mount read-only (MS_RDONLY): writes fail with EROFS in the kernel already
   * @param allowOther let other users see the mount (off by default: mounts are private)
   * @param fsName the source shown in /proc/mounts
   */
  public record Options(boolean readOnly, boolean allowOther, String fsName, Method method) {}

  private Mounter() {}

  /**
   * Mounts a FUSE file system at {@code mountpoint} and returns the connected {@code /dev/fuse}
   * descriptor, ready for {@link FuseSession#start}.
   */
  public static int mount(Path mountpoint, Options options) throws IOException {
    Path target = mountpoint.toAbsolutePath().normalize();
    if (!Files.isDirectory(target)) {
      throw new IOException("mount point " + target + " is not a directory");
    }
    Method method = options.method();
    if (method == Method.AUTO) {
      method = Native.geteuid() == 0 ? Method.SYSCALL : Method.FUSERMOUNT;
    }
    return method == Method.SYSCALL ? mountSyscall(target, options) : mountHelper(target, options);
  }

  private static int mountSyscall(Path target, Options options) throws IOException {
    int fd = Native.open("/dev/fuse", Native.O_RDWR | Native.O_CLOEXEC, 0);
    try {
      StringBuilder data = new StringBuilder()
          .append("fd=").append(fd)
          .append(",rootmode=40000")
          .append(",user_id=").append(Native.getuid())
          .append(",group_id=").append(Native.getgid())
          .append(",default_permissions");
      if (options.allowOther()) {
        data.append(",allow_other");
      }
      long flags = Native.MS_NOSUID | Native.MS_NODEV | (options.readOnly() ? Native.MS_RDONLY : 0);
      Native.mount(safeFsName(options.fsName()), target.toString(), "fuse.cairn", flags,
          data.toString());
      return fd;
    } catch (IOException | RuntimeException e) {
      Native.closeQuietly(fd);
      throw e;
    }
  }

  private static int mountHelper(Path target, Options options) throws IOException {
    Path helper = fusermount().orElseThrow(() -> new IOException(
        "cannot mount " + target + " without root: fusermount3 not found (install fuse3)"));
    String opts = (options.readOnly() ? "ro" : "rw") + ",nosuid,nodev,default_permissions"
        + (options.allowOther() ? ",allow_other" : "") + ",fsname=" + safeFsName(options.fsName())
        + ",subtype=cairn";
    int[] pair = Native.unixSocketPair();
    try {
      int pid = Spawn.run(helper.toString(),
          List.of(helper.toString(), "-o", opts, "--", target.toString()),
          List.of("_FUSE_COMMFD=3", "PATH=/usr/sbin:/usr/bin:/sbin:/bin"), pair[1], 3);
      Native.closeQuietly(pair[1]);
      pair[1] = -1;
      int fd = Native.receiveFd(pair[0]);
      int status = Spawn.waitFor(pid);
      if (fd < 0) {
        throw new IOException("fusermount3 failed to mount " + target + " (exit status " + status
            + "; its message is on standard error)");
      }
      return fd;
    } finally {
      Native.closeQuietly(pair[0]);
      if (pair[1] >= 0) {
        Native.closeQuietly(pair[1]);
      }
    }
  }

  /** Unmounts; {@code lazy} detaches a busy mount (or one whose server died) at once. */
  public static void unmount(Path mountpoint, boolean lazy) throws IOException {
    String target = mountpoint.toAbsolutePath().normalize().toString();
    if (Native.geteuid() == 0) {
      Native.umount2(target, lazy ? Native.MNT_DETACH : 0);
      return;
    }
    Path helper = fusermount().orElseThrow(() -> new IOException(
        "cannot unmount " + target + " without root: fusermount3 not found"));
    List<String> argv = new ArrayList<>(List.of(helper.toString(), "-u", "-q"));
    if (lazy) {
      argv.add("-z");
    }
    argv.add("--");
    argv.add(target);
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String output;
    try {
      output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
      if (!p.waitFor(30, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new IOException("fusermount3 -u " + target + " did not finish");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while unmounting " + target, e);
    }
    if (p.exitValue() != 0) {
      throw new IOException("cannot unmount " + target + ": " + output);
    }
  }

  /** Whether {@code path} is a FUSE mount of ours right now (by /proc/self/mountinfo). */
  public static boolean isMounted(Path path) throws IOException {
    String target = path.toAbsolutePath().normalize().toString();
    for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
      String[] f = line.split(" ");
      if (f.length > 4 && unescape(f[4]).equals(target) && line.contains(" - fuse")) {
        return true;
      }
    }
    return false;
  }

  private static String unescape(String mountinfoField) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < mountinfoField.length(); i++) {
      char c = mountinfoField.charAt(i);
      if (c == '\\' && i + 3 < mountinfoField.length()) {
        b.append((char) Integer.parseInt(mountinfoField.substring(i + 1, i + 4), 8));
        i += 3;
      } else {
        b.append(c);
      }
    }
    return b.toString();
  }

  private static String safeFsName(String name) {
    String n = name == null || name.isEmpty() ? "cairn" : name;
    return n.replaceAll("[^A-Za-z0-9._:/@+-]", "_");
  }

  private static Optional<Path> fusermount() {
    for (String dir : List.of("/usr/bin", "/bin", "/usr/local/bin")) {
      Path p = Path.of(dir, "fusermount3");
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  /** posix_spawn with one descriptor placed at a chosen number in the child. */
  static final class Spawn {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle INIT = handle("posix_spawn_file_actions_init",
        FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle DUP2 = handle("posix_spawn_file_actions_adddup2",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    private static final MethodHandle DESTROY = handle("posix_spawn_file_actions_destroy",
        FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final MethodHandle SPAWN = handle("posix_spawn",
        FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final MethodHandle WAITPID = handle("waitpid",
        FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));

    private static MethodHandle handle(String name, FunctionDescriptor d) {
      return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(), d);
    }

    /** Starts {@code path} with {@code argv} and {@code env}; {@code fd} appears as {@code as}. */
    static int run(String path, List<String> argv, List<String> env, int fd, int as)
        throws IOException {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment actions = arena.allocate(256, 16); // glibc's struct is 80 bytes
        MemorySegment pid = arena.allocate(JAVA_INT);
        int r = (int) INIT.invokeExact(actions);
        if (r != 0) {
          throw new FuseException(r, "posix_spawn_file_actions_init: " + Native.describe(r));
        }
        try {
          r = (int) DUP2.invokeExact(actions, fd, as);
          if (r != 0) {
            throw new FuseException(r, "posix_spawn_file_actions_adddup2: " + Native.describe(r));
          }
          r = (int) SPAWN.invokeExact(pid, arena.allocateFrom(path), actions, MemorySegment.NULL,
              strings(arena, argv), strings(arena, env));
          if (r != 0) {
            throw new FuseException(r, "cannot run " + path + ": " + Native.describe(r));
          }
          return pid.get(JAVA_INT, 0);
        } finally {
          int ignored = (int) DESTROY.invokeExact(actions);
        }
      } catch (IOException | RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IllegalStateException(t);
      }
    }

    /** Waits for the child; returns its exit status (128 + signal if killed). */
    static int waitFor(int pid) throws IOException {
      try (Arena arena = Arena.ofConfined()) {
        MemorySegment status = arena.allocate(JAVA_INT);
        while (true) {
          int r = (int) WAITPID.invokeExact(pid, status, 0);
          if (r == pid) {
            int s = status.get(JAVA_INT, 0);
            return (s & 0x7f) == 0 ? (s >> 8) & 0xff : 128 + (s & 0x7f);
          }
          if (r < 0) {
            throw new IOException("waitpid " + pid + " failed");
          }
        }
      } catch (IOException | RuntimeException | Error e) {
        throw e;
      } catch (Throwable t) {
        throw new IllegalStateException(t);
      }
    }

    private static MemorySegment strings(Arena arena, List<String> values) {
      MemorySegment array = arena.allocate(ADDRESS, values.size() + 1);
      for (int i = 0; i < values.size(); i++) {
        array.setAtIndex(ADDRESS, i, arena.allocateFrom(values.get(i)));
      }
      array.setAtIndex(ADDRESS, values.size(), MemorySegment.NULL);
      return array;
    }
  }
}
