package dev.cairn.fuse;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.ref.RefStore;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.cas.CasFileSystem;
import dev.cairn.fuse.cas.LocalFirstBlobStore;
import dev.cairn.fuse.flush.FlushPolicy;
import dev.cairn.fuse.flush.Flusher;
import dev.cairn.fuse.flush.RefPublisher;
import dev.cairn.fuse.kernel.FuseFileSystem;
import dev.cairn.fuse.kernel.FuseSession;
import dev.cairn.fuse.kernel.Mounter;
import dev.cairn.fuse.kernel.Native;
import dev.cairn.fuse.metrics.AccessLog;
import dev.cairn.fuse.metrics.MountMetrics;
import dev.cairn.fuse.metrics.ThrashDetector;
import dev.cairn.fuse.overlay.OverlayFileSystem;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.vfs.CasDirectory;
import dev.cairn.vfs.OverlayDirectory;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * Everything behind one {@code cairn mount}, assembled from a {@link Spec}: the blob source
 * (local store, optional remote), the file system (read-only {@link CasFileSystem} with
 * passthrough, or an {@link OverlayFileSystem} when writable or when accesses are tracked), and
 * the writable-mount services (flush policy publishing to a ref, access log, Prometheus metrics,
 * thrash warnings). {@link #close()} unmounts and finishes them in order: final flush, access
 * log, scratch files.
 */
public final class CairnMount implements AutoCloseable {

  private static final Logger LOG = System.getLogger(CairnMount.class.getName());

  /**
   * What to mount and how.
   *
   * @param root the tree
   * @param mountpoint an existing directory
   * @param writable copy-on-write writes (captured with {@link #capture()})
   * @param threads FUSE reader threads
   * @param trackAccess where to write the accessed paths at capture and unmount
   * @param metricsListen where to serve Prometheus metrics
   * @param flush when to publish captures to {@code ref} (writable mounts)
   * @param ref the ref to publish to; needs {@code refs}
   * @param refs the ref store, when refs are available
   * @param method how to mount
   * @param reads how a read-only mount opens and reads files
   */
  public record Spec(Digest root, Path mountpoint, boolean writable, int threads,
      Optional<Path> trackAccess, Optional<InetSocketAddress> metricsListen,
      Optional<FlushPolicy> flush, Optional<String> ref, Optional<RefStore> refs,
      Mounter.Method method, CasFileSystem.Reads reads) {

    /** What a read-only mount does unless told otherwise: see {@code docs/PERFORMANCE.md}. */
    public static final CasFileSystem.Reads DEFAULT_READS = CasFileSystem.Reads.KERNEL_CACHE;

    /** A spec with the default way of reading. */
    public Spec(Digest root, Path mountpoint, boolean writable, int threads,
        Optional<Path> trackAccess, Optional<InetSocketAddress> metricsListen,
        Optional<FlushPolicy> flush, Optional<String> ref, Optional<RefStore> refs,
        Mounter.Method method) {
      this(root, mountpoint, writable, threads, trackAccess, metricsListen, flush, ref, refs,
          method, DEFAULT_READS);
    }

    public Spec {
      Objects.requireNonNull(reads, "reads");
      Objects.requireNonNull(root, "root");
      Objects.requireNonNull(mountpoint, "mountpoint");
      if ((flush.isPresent() || ref.isPresent()) && !writable) {
        throw new IllegalArgumentException("--flush and --ref need --writable");
      }
      if (flush.isPresent() && ref.isEmpty()) {
        throw new IllegalArgumentException("--flush needs --ref NAME to publish to");
      }
      if (ref.isPresent() && refs.isEmpty()) {
        throw new IllegalArgumentException("--ref needs a ref store (the asset index), which is"
            + " not available here");
      }
    }

    /** A plain mount: no tracking, metrics or flushing. */
    public static Spec of(Digest root, Path mountpoint, boolean writable, int threads) {
      return new Spec(root, mountpoint, writable, threads, Optional.empty(), Optional.empty(),
          Optional.empty(), Optional.empty(), Optional.empty(), Mounter.Method.AUTO);
    }
  }

  private final Spec spec;
  private final FuseMount mount;
  private final FuseFileSystem fs;
  private final OverlayDirectory overlay; // null when served by CasFileSystem
  private final Path scratch;
  private final AccessLog accessLog;
  private final MountMetrics metrics;
  private final Flusher flusher;
  private final InetSocketAddress metricsAddress;
  private final DiskBlobStore local;
  private final ThrashDetector thrash; // null without a remote
  private Digest finalDigest; // guarded by this; set once unmounted

  private CairnMount(Spec spec, FuseMount mount, FuseFileSystem fs, OverlayDirectory overlay,
      Path scratch, AccessLog accessLog, MountMetrics metrics, InetSocketAddress metricsAddress,
      Flusher flusher, DiskBlobStore local, ThrashDetector thrash) {
    this.spec = spec;
    this.local = local;
    this.thrash = thrash;
    this.mount = mount;
    this.fs = fs;
    this.overlay = overlay;
    this.scratch = scratch;
    this.accessLog = accessLog;
    this.metrics = metrics;
    this.metricsAddress = metricsAddress;
    this.flusher = flusher;
  }

  /** Mounts {@code spec}; returns once the mount point shows the tree. */
  public static CairnMount start(DiskBlobStore local, Optional<BlobStore> remote, Spec spec)
      throws IOException {
    BlobSource blobs = new BlobSource(local, remote);
    MountMetrics metrics = spec.metricsListen().isPresent() ? new MountMetrics() : null;
    ThrashDetector thrash = remote.isPresent()
        ? ThrashDetector.attach(local, Duration.ofMinutes(10), InstantSource.system()) : null;
    if (metrics != null || thrash != null) {
      blobs.setListener(new BlobSource.Listener() {
        @Override
        public void hit(Digest digest) {
          if (metrics != null) {
            metrics.cacheHit();
          }
        }

        @Override
        public void fetched(Digest digest) {
          if (metrics != null) {
            metrics.cacheMiss();
            metrics.blobFetched(digest.sizeBytes());
          }
          if (thrash != null) {
            thrash.fetched(digest);
          }
        }
      });
    }
    if (metrics != null && thrash != null) {
      thrash.bindTo(metrics.registry());
    }
    AccessLog accessLog = spec.trackAccess().isPresent() ? new AccessLog() : null;
    int uid = Native.getuid();
    int gid = Native.getgid();
    long now = System.currentTimeMillis() / 1000;
    FuseFileSystem fs;
    OverlayDirectory overlay = null;
    Path scratch = null;
    Flusher flusher = null;
    InetSocketAddress bound = null;
    try {
      if (spec.writable() || accessLog != null) {
        scratch = Files.createDirectories(local.root().resolve("mounts"))
            .resolve(ProcessHandle.current().pid() + "-" + Long.toHexString(System.nanoTime()));
        overlay = OverlayDirectory.over(
            CasDirectory.open(new LocalFirstBlobStore(blobs), spec.root()), local, scratch);
        OverlayFileSystem ofs = new OverlayFileSystem(overlay, blobs, uid, gid, now,
            accessLog == null ? p -> {} : accessLog::record, spec.writable());
        if (spec.flush().isPresent()) {
          RefStore refs = spec.refs().orElseThrow();
          Optional<Digest> base = refs.get(spec.ref().orElseThrow());
          RefPublisher publisher = new RefPublisher(refs, spec.ref().get(), base);
          flusher = Flusher.create(spec.flush().get(), ofs::capture, publisher,
              base.filter(spec.root()::equals));
          Flusher f = flusher;
          ofs.onChanges(f::onWrite, f::onClose);
        }
        if (accessLog != null) {
          Path file = spec.trackAccess().get();
          ofs.onCapture(d -> writeAccessLog(accessLog, file));
        }
        fs = ofs;
      } else {
        fs = new CasFileSystem(blobs, spec.root(), uid, gid, now, spec.reads());
      }
      if (metrics != null) {
        bound = metrics.serve(spec.metricsListen().get());
        LOG.log(Level.INFO, "metrics on http://" + bound.getHostString() + ":" + bound.getPort()
            + "/metrics");
      }
      FuseSession.Observer observer = metrics == null ? null
          : (op, nanos) -> metrics.operation(FuseSession.opcodeName(op), nanos);
      FuseMount mount = FuseMount.mount(spec.mountpoint(), fs, new FuseMount.Config(spec.threads(),
          new Mounter.Options(!spec.writable(), false, "cairn", spec.method())), observer);
      if (flusher != null) {
        flusher.start();
      }
      return new CairnMount(spec, mount, fs, overlay, scratch, accessLog, metrics, bound, flusher,
          local, thrash);
    } catch (IOException | RuntimeException e) {
      if (thrash != null) {
        local.removeEvictionListener(thrash);
      }
      if (metrics != null) {
        metrics.close();
      }
      if (overlay != null) {
        overlay.close();
      }
      deleteTree(scratch);
      throw e;
    }
  }

  public FuseMount fuse() {
    return mount;
  }

  /** Whether reads go kernel-direct to the store's (or the scratch area's) files. */
  public boolean passthrough() {
    return fs instanceof CasFileSystem cas ? cas.passthrough() : mount.connection().passthrough();
  }

  /** How files are read, for logs: "passthrough", "kernel-cached" or "cached". */
  public String readsDescription() {
    if (passthrough()) {
      return "passthrough";
    }
    return fs instanceof CasFileSystem && spec.reads() == CasFileSystem.Reads.KERNEL_CACHE
        ? "kernel-cached" : "cached";
  }

  /** Where metrics are served, if they are. */
  public Optional<InetSocketAddress> metricsAddress() {
    return Optional.ofNullable(metricsAddress);
  }

  /** The tree's root digest as it is now (for writable mounts, hashing only what changed). */
  public Digest capture() throws IOException {
    Digest d = overlay == null ? spec.root() : overlay.snapshot();
    if (accessLog != null) {
      writeAccessLog(accessLog, spec.trackAccess().get());
    }
    return d;
  }

  /** Blocks until unmounted from outside (cairn umount, umount, fusermount3 -u). */
  public void awaitUnmount() throws InterruptedException {
    mount.awaitUnmount();
  }

  /**
   * Unmounts (if still mounted; idempotent), flushes a last time, writes the access log, and returns the
   * final root digest.
   */
  public synchronized Digest unmount() throws IOException {
    if (finalDigest != null) {
      return finalDigest;
    }
    IOException failure = null;
    try {
      mount.close();
    } catch (IOException e) {
      failure = e;
    }
    Digest last = spec.root();
    try {
      if (flusher != null) {
        flusher.close(); // the final flush, whatever the policy
      }
      if (overlay != null) {
        last = overlay.snapshot();
      }
    } catch (IOException e) {
      if (failure == null) {
        failure = e;
      } else {
        failure.addSuppressed(e);
      }
    }
    if (accessLog != null) {
      writeAccessLog(accessLog, spec.trackAccess().get());
    }
    if (metrics != null) {
      metrics.close();
    }
    if (thrash != null) {
      local.removeEvictionListener(thrash); // the store may serve other mounts for long
    }
    if (overlay != null) {
      overlay.close();
    }
    deleteTree(scratch);
    if (failure != null) {
      throw failure;
    }
    finalDigest = last;
    return last;
  }

  /** {@link #unmount()}, for try-with-resources. */
  @Override
  public void close() throws IOException {
    unmount();
  }

  private static void writeAccessLog(AccessLog log, Path file) {
    try {
      log.writeTo(file);
    } catch (IOException e) {
      LOG.log(Level.ERROR, "cannot write the access log " + file + ": " + e.getMessage());
    }
  }

  private static void deleteTree(Path dir) {
    if (dir == null || !Files.exists(dir)) {
      return;
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot delete scratch directory " + dir + ": " + e.getMessage());
    }
  }
}
