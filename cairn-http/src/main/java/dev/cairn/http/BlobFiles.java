package dev.cairn.http;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Direct access to a store that keeps one read-only file per blob (the disk store): it lets the
 * server find a blob by hash alone, as the HTTP cache protocol names it, and send it from its
 * file with {@code sendfile(2)} instead of copying it through the heap. Thread-safe.
 *
 * <p>The wiring passes the disk store's methods: {@code BlobFiles.of(disk::findByHash,
 * disk::pathOf)}.
 */
public interface BlobFiles {

  /** The digest of the stored blob with this hash (a valid lowercase hex hash), if any. */
  Optional<Digest> findByHash(String hash) throws IOException;

  /** The read-only file holding the blob, if the store has it. */
  Optional<Path> pathOf(Digest digest) throws IOException;

  /** A blob lookup that may fail with an {@link IOException}. */
  @FunctionalInterface
  interface Lookup<K, V> {
    Optional<V> find(K key) throws IOException;
  }

  static BlobFiles of(Lookup<String, Digest> findByHash, Lookup<Digest, Path> pathOf) {
    return new BlobFiles() {
      @Override
      public Optional<Digest> findByHash(String hash) throws IOException {
        return findByHash.find(hash);
      }

      @Override
      public Optional<Path> pathOf(Digest digest) throws IOException {
        return pathOf.find(digest);
      }
    };
  }
}
