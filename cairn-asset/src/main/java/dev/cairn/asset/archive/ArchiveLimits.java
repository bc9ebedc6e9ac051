package dev.cairn.asset.archive;

/**
 * Bounds on what one archive may unpack to, so that an archive bomb stops with a clear error
 * instead of filling the store: total bytes of file content and number of entries.
 */
public record ArchiveLimits(long maxExtractedBytes, long maxEntries) {}
