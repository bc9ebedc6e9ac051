package dev.cairn.core.blob;

import java.io.IOException;
import java.util.Objects;

/**
 * Asks a store to make room for a blob while its bytes arrive ({@link BlobStore#makeRoomFor}):
 * room for what has arrived plus one {@link #STEP}, never beyond the declared size. A store at
 * its limit then evicts just before the blob's pages are written, so they reuse the memory just
 * freed; and a writer that declares a large size but sends little cannot make the store evict
 * more than it sent plus one step. Blobs under {@link #FROM} leave eviction to the moment they
 * are stored. Not thread-safe: one writer.
 */
public final class RoomAhead {
  /** How far ahead of the bytes received room is made. */
  public static final long STEP = 8L << 20;
  /** Blobs smaller than this make no room ahead. */
  public static final long FROM = 1L << 20;

  private final BlobStore store;
  private final long declared;
  private long asked;

  public RoomAhead(BlobStore store, long declaredSize) {
    this.store = Objects.requireNonNull(store, "store");
    this.declared = declaredSize;
  }

  /** {@code received} bytes of the blob have arrived and are about to be written. */
  public void arrived(long received) throws IOException {
    if (received > asked && declared >= FROM) {
      asked = Math.min(declared, received + STEP);
      store.makeRoomFor(asked);
    }
  }
}
