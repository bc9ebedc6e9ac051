package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import java.io.IOException;

/**
 * Bytes did not match the digest they were given or stored under: a different hash, or more or
 * fewer bytes than the digest's size. Nothing was stored (on put) or the read is aborted (on get).
 */
public final class DigestMismatchException extends IOException {
  private final transient Digest expected;

  public DigestMismatchException(Digest expected, String detail) {
    super("digest mismatch for " + expected + ": " + detail);
    this.expected = expected;
  }

  /** Bytes hashed to {@code actual} instead. */
  public static DigestMismatchException hashDiffers(Digest expected, Digest actual) {
    return new DigestMismatchException(expected, "content hashes to " + actual);
  }

  /** The byte count differs from the digest's size. */
  public static DigestMismatchException sizeDiffers(Digest expected, long actualAtLeast) {
    return new DigestMismatchException(
        expected,
        (actualAtLeast > expected.sizeBytes() ? "more than " : "only ")
            + (actualAtLeast > expected.sizeBytes() ? expected.sizeBytes() : actualAtLeast)
            + " bytes, expected " + expected.sizeBytes());
  }

  public Digest expected() {
    return expected;
  }
}
