package dev.cairn.fuse.cas;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.store.disk.DiskBlobStore;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Where a mount gets blobs: the local {@link DiskBlobStore} (one file per blob, so a file can be
 * handed to the kernel for passthrough), filled on first use from an optional remote store. A
 * fetched blob is verified by the disk store as it is written, so a remote that sends wrong bytes
 * yields an error, never a wrong file. Concurrent requests for one missing blob fetch it once.
 */
public final class BlobSource {

  private static final Logger LOG = System.getLogger(BlobSource.class.getName());

  /** Told about local hits and fetches, for metrics and thrash detection. */
  public interface Listener {
    void hit(Digest digest);

    void fetched(Digest digest);
  }

  private static final Listener NONE = new Listener() {
    @Override
    public void hit(Digest digest) {}

    @Override
    public void fetched(Digest digest) {}
  };

  private volatile Listener listener = NONE;
  private final DiskBlobStore local;
  private final BlobStore remote; // null: local only
  private final ConcurrentHashMap<Digest, Object> inFlight = new ConcurrentHashMap<>();
  private final AtomicLong fetched = new AtomicLong();
  private final AtomicLong fetchedBytes = new AtomicLong();

  public BlobSource(DiskBlobStore local, Optional<BlobStore> remote) {
    this.local = Objects.requireNonNull(local, "local");
    this.remote = remote.orElse(null);
  }

  public void setListener(Listener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  public DiskBlobStore local() {
    return local;
  }

  /** The local file holding {@code digest}, fetching it first if needed; empty for the empty blob. */
  public Optional<Path> file(Digest digest) throws IOException {
    if (digest.sizeBytes() == 0) {
      return Optional.empty();
    }
    Optional<Path> path = local.pathOf(digest);
    if (path.isPresent()) {
      listener.hit(digest);
      return path;
    }
    fetch(digest);
    path = local.pathOf(digest);
    if (path.isEmpty()) {
      throw new BlobNotFoundException(digest);
    }
    return path;
  }

  /** The whole (small) blob, e.g. a Directory message, fetched into the local store if needed. */
  public byte[] bytes(Digest digest) throws IOException {
    try {
      return local.get(digest);
    } catch (BlobNotFoundException e) {
      if (remote == null) {
        throw e;
      }
    }
    fetch(digest);
    return local.get(digest);
  }

  /** Blobs fetched from the remote so far, and their bytes. */
  public long fetchedCount() {
    return fetched.get();
  }

  public long fetchedBytes() {
    return fetchedBytes.get();
  }

  private void fetch(Digest digest) throws IOException {
    if (remote == null) {
      throw new BlobNotFoundException(digest);
    }
    Object lock = inFlight.computeIfAbsent(digest, d -> new Object());
    try {
      synchronized (lock) {
        if (local.contains(digest)) {
          return; // another thread fetched it meanwhile
        }
        try (InputStream in = remote.openRead(digest, 0)) {
          local.put(digest, in); // verified while written: wrong bytes are never stored
        } catch (IOException e) {
          LOG.log(Level.WARNING, "fetching blob " + digest + " failed: " + e.getMessage());
          throw e;
        }
        fetched.incrementAndGet();
        fetchedBytes.addAndGet(digest.sizeBytes());
        listener.fetched(digest);
      }
    } finally {
      inFlight.remove(digest, lock);
    }
  }
}
