package dev.cairn.asset;

import dev.cairn.asset.archive.ArchiveLimits;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the Remote Asset service ({@code cairn serve}) and of {@code cairn fetch}.
 *
 * @param allowPrivate contact origins on loopback, private, link-local and CGNAT addresses (never
 *     the cloud metadata addresses); off by default, see {@link PublicAddressPolicy}
 * @param maxDownloadBytes the largest download accepted from an origin
 * @param maxIndexEntries the asset index's bound; the least recently used names are dropped beyond it
 * @param defaultTimeout the fetch timeout when a request gives none
 * @param archiveLimits the bounds on what one archive may unpack to
 */
public record AssetConfig(boolean allowPrivate, long maxDownloadBytes, long maxIndexEntries,
    Duration defaultTimeout, ArchiveLimits archiveLimits) {

  public static final long DEFAULT_MAX_DOWNLOAD_BYTES = 8L << 30;
  public static final long DEFAULT_MAX_INDEX_ENTRIES = 100_000;

  public AssetConfig {
    Objects.requireNonNull(defaultTimeout, "defaultTimeout");
    Objects.requireNonNull(archiveLimits, "archiveLimits");
    if (maxDownloadBytes <= 0) {
      throw new IllegalArgumentException("asset download limit must be positive, got " + maxDownloadBytes);
    }
    if (maxIndexEntries < 1) {
      throw new IllegalArgumentException("asset index bound must be at least 1 entry, got " + maxIndexEntries);
    }
    if (defaultTimeout.isNegative() || defaultTimeout.isZero()) {
      throw new IllegalArgumentException("asset fetch timeout must be positive, got " + defaultTimeout);
    }
  }

  /** Public origins only, 8 GiB downloads, 100,000 index entries, 10 minutes, 32 GiB / 1M entries per archive. */
  public static AssetConfig defaults() {
    return new AssetConfig(false, DEFAULT_MAX_DOWNLOAD_BYTES, DEFAULT_MAX_INDEX_ENTRIES,
        Duration.ofMinutes(10), new ArchiveLimits(32L << 30, 1_000_000));
  }

  public AssetConfig withAllowPrivate(boolean allow) {
    return new AssetConfig(allow, maxDownloadBytes, maxIndexEntries, defaultTimeout, archiveLimits);
  }

  public AssetConfig withMaxDownloadBytes(long bytes) {
    return new AssetConfig(allowPrivate, bytes, maxIndexEntries, defaultTimeout, archiveLimits);
  }

  public AssetConfig withMaxIndexEntries(long entries) {
    return new AssetConfig(allowPrivate, maxDownloadBytes, entries, defaultTimeout, archiveLimits);
  }
}
