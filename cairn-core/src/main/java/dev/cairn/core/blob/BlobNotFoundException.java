package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import java.io.IOException;

/** The store does not hold the blob (it was never put, or has been evicted). */
public final class BlobNotFoundException extends IOException {
  private final transient Digest digest;

  public BlobNotFoundException(Digest digest) {
    super("blob " + digest + " not found");
    this.digest = digest;
  }

  public BlobNotFoundException(Digest digest, String where) {
    super(where + ": blob " + digest + " not found");
    this.digest = digest;
  }

  public Digest digest() {
    return digest;
  }
}
