package dev.cairn.asset.archive;

/**
 * Bounds on what one archive may unpack to, so that an archive bomb stops with a clear error
 * instead of filling the store: total bytes of file content and number of entries.
 *
 * <p>Both are counted on what the archive actually yields while it is read, never on the sizes
 * its headers declare.
 *
 * @param maxExtractedBytes bytes of file content (and symlink targets) over all entries
 * @param maxEntries entries of any kind (files, directories, links)
 */
public record ArchiveLimits(long maxExtractedBytes, long maxEntries) {

  public ArchiveLimits {
    if (maxExtractedBytes < 0) {
      throw new IllegalArgumentException("maxExtractedBytes must not be negative, got " + maxExtractedBytes);
    }
    if (maxEntries < 0) {
      throw new IllegalArgumentException("maxEntries must not be negative, got " + maxEntries);
    }
  }

  /** 16 GiB and one million entries: generous for source archives, fatal for bombs. */
  public static ArchiveLimits defaults() {
    return new ArchiveLimits(16L << 30, 1_000_000);
  }
}
