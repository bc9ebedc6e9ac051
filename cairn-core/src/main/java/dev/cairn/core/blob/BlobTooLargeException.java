package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import java.io.IOException;

/** A blob was asked for in memory ({@link BlobStore#get}) but is too large; stream it instead. */
public final class BlobTooLargeException extends IOException {
  public BlobTooLargeException(Digest digest, long limit) {
    super("blob " + digest + " is larger than " + limit + " bytes; it must be streamed");
  }
}
