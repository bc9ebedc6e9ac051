package dev.cairn.store.disk;

import dev.cairn.core.digest.DigestFunction;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * How to open a {@link DiskBlobStore}.
 *
 * @param root the store's directory (created if absent)
 * @param maxSizeBytes the size limit; empty means the limit saved in the store by an earlier
 *     explicit setting, else {@link #DEFAULT_MAX_SIZE_BYTES}. A given limit is saved, so that every
 *     process using the store agrees on it
 * @param digestFunction which blobs this instance serves (each function has its own directory)
 * @param fsync whether each blob is flushed to the device before it becomes visible; without it a
 *     blob survives a killed process but maybe not a power cut (a truncated blob is then detected
 *     and dropped, never served)
 */
public record DiskStoreConfig(
    Path root, OptionalLong maxSizeBytes, DigestFunction digestFunction, boolean fsync) {

  public static final long DEFAULT_MAX_SIZE_BYTES = 10L * 1024 * 1024 * 1024;

  public DiskStoreConfig {
    Objects.requireNonNull(root, "root");
    Objects.requireNonNull(maxSizeBytes, "maxSizeBytes");
    Objects.requireNonNull(digestFunction, "digestFunction");
    if (maxSizeBytes.isPresent() && maxSizeBytes.getAsLong() <= 0) {
      throw new IllegalArgumentException("max size must be positive, got " + maxSizeBytes.getAsLong());
    }
  }

  /** A store at {@code root} with the saved or default limit, SHA-256, no fsync. */
  public static DiskStoreConfig at(Path root) {
    return new DiskStoreConfig(root, OptionalLong.empty(), DigestFunction.SHA256, false);
  }

  public DiskStoreConfig withMaxSize(long bytes) {
    return new DiskStoreConfig(root, OptionalLong.of(bytes), digestFunction, fsync);
  }

  public DiskStoreConfig withDigestFunction(DigestFunction function) {
    return new DiskStoreConfig(root, maxSizeBytes, function, fsync);
  }

  public DiskStoreConfig withFsync(boolean value) {
    return new DiskStoreConfig(root, maxSizeBytes, digestFunction, value);
  }
}
