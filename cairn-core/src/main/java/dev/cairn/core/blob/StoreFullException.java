package dev.cairn.core.blob;

import java.io.IOException;

/**
 * A blob could not be stored for lack of space: the device is full, or the blob is larger than
 * the store's size limit. The store stays consistent and usable; nothing was half-written.
 */
public final class StoreFullException extends IOException {
  public StoreFullException(String message) {
    super(message);
  }

  public StoreFullException(String message, Throwable cause) {
    super(message, cause);
  }
}
