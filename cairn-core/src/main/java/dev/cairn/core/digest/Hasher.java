package dev.cairn.core.digest;

import java.nio.ByteBuffer;

/**
 * An incremental hash of one blob: feed bytes, then {@link #finish()} gives its {@link Digest}
 * (hash and the number of bytes fed). Not thread-safe; one instance per blob.
 */
public interface Hasher {

  void update(byte[] bytes, int offset, int length);

  default void update(byte[] bytes) {
    update(bytes, 0, bytes.length);
  }

  /** Consumes the buffer's remaining bytes. */
  void update(ByteBuffer buffer);

  /** Bytes fed so far. */
  long size();

  /** The digest of everything fed; the hasher must not be used afterwards. */
  Digest finish();
}
