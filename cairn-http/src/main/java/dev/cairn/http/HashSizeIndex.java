package dev.cairn.http;

import dev.cairn.core.digest.Digest;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The sizes of blobs recently stored through this server, by hash: how a {@code GET /cas/<hash>}
 * finds the full {@link Digest} when the store offers no lookup by hash ({@link BlobFiles}), for
 * example an in-memory or remote store. Bounded (least recently used entries are dropped), so it
 * is a cache: a blob it forgot, or that was stored by another route, is a miss for such stores.
 * An entry is only a hint; the store is still asked whether it holds the blob. Thread-safe.
 */
final class HashSizeIndex {
  private final Map<String, Long> sizes;

  HashSizeIndex(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive, got " + capacity);
    }
    this.sizes = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<String, Long> eldest) {
        return size() > capacity;
      }
    };
  }

  synchronized void remember(Digest digest) {
    sizes.put(digest.hash(), digest.sizeBytes());
  }

  synchronized Optional<Digest> find(String hash) {
    Long size = sizes.get(hash);
    return size == null ? Optional.empty() : Optional.of(new Digest(hash, size));
  }

  synchronized void forget(Digest digest) {
    sizes.remove(digest.hash(), digest.sizeBytes());
  }

  synchronized int size() {
    return sizes.size();
  }
}
