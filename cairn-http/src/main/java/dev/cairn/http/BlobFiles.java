package dev.cairn.http;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * Direct access to a store that keeps one read-only file per blob (the disk store): it lets the
 * server find a blob by hash alone, as the HTTP cache protocol names it, and send it from its
 * file with {@code sendfile(2)} instead of copying it through the heap. Thread-safe.
 *
 * <p>The wiring passes the disk store's methods: {@code BlobFiles.of(disk::findByHash,
 * disk::pathOf, disk::findIndexedByHash, disk::blobPath, removals)}. With {@link #findIndexed}
 * the server answers hits on its event loop, without handing the request to another thread;
 * with {@link #onRemoval} it may keep small blobs' files open between requests.
 */
public interface BlobFiles {

  /** A stored blob and the read-only file that holds it (which eviction may remove at any time). */
  record BlobFile(Digest digest, Path path) {}

  /** The digest of the stored blob with this hash (a valid lowercase hex hash), if any. */
  Optional<Digest> findByHash(String hash) throws IOException;

  /** The read-only file holding the blob, if the store has it. */
  Optional<Path> pathOf(Digest digest) throws IOException;

  /**
   * The blob with this hash (a valid lowercase hex hash, not the empty blob's) and its file,
   * answered from memory alone: never waits for the disk or a lock, so an event loop may call it.
   * Empty means "not known without waiting", not "absent": ask {@link #findByHash} where waiting
   * is allowed. Counts as a use, like {@link #findByHash}. Without such a probe, always empty.
   */
  default Optional<BlobFile> findIndexed(String hash) {
    return Optional.empty();
  }

  /**
   * Asks the store to tell {@code listener} of each blob it removes from now on: evicted, or
   * dropped as damaged or missing, called once the file is gone (the disk store's eviction
   * listeners; the listener is quick and never calls the store). The server keeps small blobs'
   * files open between requests only if this returns true. Without such reports, false.
   */
  default boolean onRemoval(Consumer<Digest> listener) {
    return false;
  }

  /** Registers a listener for the blobs a store removes; see {@link #onRemoval}. */
  @FunctionalInterface
  interface Removals {
    void listen(Consumer<Digest> listener);
  }

  /** A blob lookup that may fail with an {@link IOException}. */
  @FunctionalInterface
  interface Lookup<K, V> {
    Optional<V> find(K key) throws IOException;
  }

  /** Blob files without a memory-only probe: every lookup goes through {@code findByHash}. */
  static BlobFiles of(Lookup<String, Digest> findByHash, Lookup<Digest, Path> pathOf) {
    return of(findByHash, pathOf, hash -> Optional.empty(), digest -> {
      throw new IllegalStateException("no digest was found in memory");
    });
  }

  /**
   * Blob files with a memory-only probe: {@code findIndexedByHash} answers from memory without
   * waiting, and {@code fileOf} names a found blob's file without asking the store again.
   */
  static BlobFiles of(
      Lookup<String, Digest> findByHash,
      Lookup<Digest, Path> pathOf,
      Function<String, Optional<Digest>> findIndexedByHash,
      Function<Digest, Path> fileOf) {
    return of(findByHash, pathOf, findIndexedByHash, fileOf, null);
  }

  /**
   * Blob files with a memory-only probe, as above, whose store reports the blobs it removes
   * through {@code removals} (see {@link #onRemoval}); null if it does not.
   */
  static BlobFiles of(
      Lookup<String, Digest> findByHash,
      Lookup<Digest, Path> pathOf,
      Function<String, Optional<Digest>> findIndexedByHash,
      Function<Digest, Path> fileOf,
      Removals removals) {
    return new BlobFiles() {
      @Override
      public boolean onRemoval(Consumer<Digest> listener) {
        if (removals == null) {
          return false;
        }
        removals.listen(listener);
        return true;
      }

      @Override
      public Optional<Digest> findByHash(String hash) throws IOException {
        return findByHash.find(hash);
      }

      @Override
      public Optional<Path> pathOf(Digest digest) throws IOException {
        return pathOf.find(digest);
      }

      @Override
      public Optional<BlobFile> findIndexed(String hash) {
        return findIndexedByHash.apply(hash).map(d -> new BlobFile(d, fileOf.apply(d)));
      }
    };
  }
}
