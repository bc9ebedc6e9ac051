package dev.cairn.fuse;

import dev.cairn.fuse.kernel.Connection;
import dev.cairn.fuse.kernel.FuseFileSystem;
import dev.cairn.fuse.kernel.FuseSession;
import dev.cairn.fuse.kernel.Mounter;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Objects;

/**
 * A live mount: the kernel mount plus the session serving it. {@link #mount} returns once the
 * kernel's INIT has been answered, i.e. when the mount point already shows the file system;
 * {@link #close} unmounts (lazily if busy) and waits for the session to end.
 */
public final class FuseMount implements AutoCloseable {

  private static final Logger LOG = System.getLogger(FuseMount.class.getName());

  /**
   * How to mount and serve.
   *
   * @param threads platform threads reading /dev/fuse
   * @param mountOptions kernel mount settings
   */
  public record Config(int threads, Mounter.Options mountOptions) {
    public Config {
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException("threads must be between 1 and 64, got " + threads);
      }
      Objects.requireNonNull(mountOptions, "mountOptions");
    }

    /** A private mount with {@code threads} readers, mounted the best way for this user. */
    public static Config of(int threads, boolean readOnly) {
      return new Config(threads,
          new Mounter.Options(readOnly, false, "cairn", Mounter.Method.AUTO));
    }
  }

  private final Path mountpoint;
  private final FuseFileSystem fs;
  private final FuseSession session;
  private volatile boolean unmounted;

  private FuseMount(Path mountpoint, FuseFileSystem fs, FuseSession session) {
    this.mountpoint = mountpoint;
    this.fs = fs;
    this.session = session;
  }

  /** Mounts {@code fs} at {@code mountpoint} and serves it until unmounted. */
  public static FuseMount mount(Path mountpoint, FuseFileSystem fs, Config config)
      throws IOException {
    return mount(mountpoint, fs, config, null);
  }

  /** As {@link #mount(Path, FuseFileSystem, Config)}, with a per-request observer (or null). */
  public static FuseMount mount(Path mountpoint, FuseFileSystem fs, Config config,
      FuseSession.Observer observer) throws IOException {
    Path target = mountpoint.toAbsolutePath().normalize();
    int fd = Mounter.mount(target, config.mountOptions());
    FuseSession session;
    try {
      session = FuseSession.start(fd, fs, config.threads(), "fuse " + target, observer);
    } catch (IOException | RuntimeException e) {
      try {
        Mounter.unmount(target, true);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      dev.cairn.fuse.kernel.Native.closeQuietly(fd);
      throw e;
    }
    return new FuseMount(target, fs, session);
  }

  public Path mountpoint() {
    return mountpoint;
  }

  public Connection connection() {
    return session.connection();
  }

  public FuseSession session() {
    return session;
  }

  /** Blocks until the file system is unmounted (by {@link #close}, umount or fusermount3 -u). */
  public void awaitUnmount() throws InterruptedException {
    session.awaitEnd();
    finish();
  }

  /** Unmounts; a busy mount is detached lazily so the mount point is free at once. */
  @Override
  public void close() throws IOException {
    if (!unmounted) {
      try {
        Mounter.unmount(mountpoint, false);
      } catch (IOException e) {
        LOG.log(Level.WARNING, "unmount of " + mountpoint + " failed (" + e.getMessage()
            + "); detaching it lazily");
        Mounter.unmount(mountpoint, true);
      }
    }
    try {
      if (!session.awaitEnd(10_000)) {
        LOG.log(Level.WARNING, "FUSE session of " + mountpoint + " did not end after unmount");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    finish();
  }

  private synchronized void finish() {
    if (!unmounted) {
      unmounted = true;
      fs.destroy();
      session.close();
    }
  }
}
