package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Content-addressed bytes: the one storage SPI every medium implements (memory, disk, a remote
 * Cairn, later S3 or a peer), and every feature decorates (verification, caching, metrics).
 *
 * <p>Blocking by design: callers run on virtual threads, and a synchronous five-method interface
 * keeps decorators short. Failures are checked {@link IOException}s: {@link
 * BlobNotFoundException}, {@link DigestMismatchException}, {@link StoreFullException}. The empty
 * blob is always present. Implementations are thread-safe.
 */
public interface BlobStore extends AutoCloseable {

  /** Blobs larger than this are refused by {@link #get}: stream them with {@link #openRead}. */
  long MAX_IN_MEMORY_BYTES = 64L * 1024 * 1024;

  /** The function this store's digests are computed with. */
  DigestFunction digestFunction();

  /**
   * The subset of {@code digests} that the store does not hold. Digests found are refreshed (they
   * count as just used), so a client told a blob exists can rely on it for a while.
   */
  Set<Digest> findMissing(Collection<Digest> digests) throws IOException;

  /**
   * {@link #findMissing} of digests as they came over the wire (a {@code FindMissingBlobs}
   * request): the absent ones, each once, in request order, as the request's own messages. A
   * store that can check wire digests without a {@link Digest} each (the disk store) overrides
   * this; decorators do not forward it, so that their own {@code findMissing} applies.
   *
   * @throws IllegalArgumentException naming the first digest that is not valid
   */
  default List<build.bazel.remote.execution.v2.Digest> findMissingWire(
      List<build.bazel.remote.execution.v2.Digest> digests) throws IOException {
    List<Digest> parsed = new ArrayList<>(digests.size());
    for (var d : digests) {
      parsed.add(Digest.fromProto(d));
    }
    Set<Digest> missing = new HashSet<>(findMissing(parsed));
    List<build.bazel.remote.execution.v2.Digest> answer = new ArrayList<>(missing.size());
    for (int i = 0; i < parsed.size(); i++) {
      if (missing.remove(parsed.get(i))) {
        answer.add(digests.get(i));
      }
    }
    return answer;
  }

  /**
   * Streams the blob from {@code offset} to its end. The caller closes the stream.
   *
   * @throws BlobNotFoundException if the store does not hold the blob
   * @throws IllegalArgumentException if offset is negative or beyond the blob's size
   */
  InputStream openRead(Digest digest, long offset) throws IOException;

  /**
   * Stores the bytes {@code data} yields (read to its end, not closed) under {@code digest}. The
   * blob becomes visible only once all its bytes have arrived and match the digest.
   *
   * @throws DigestMismatchException if the bytes do not match; nothing is stored
   * @throws StoreFullException if there is no room; nothing is stored
   */
  void put(Digest digest, InputStream data) throws IOException;

  /**
   * Stores the contents of a local file under {@code digest}, with the same checks as {@link
   * #put(Digest, InputStream)}. The store may take the file over (move it into place) instead of
   * copying it, so the caller must not use the file afterwards; it deletes it if it still exists.
   */
  default void putFile(Digest digest, java.nio.file.Path file) throws IOException {
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      put(digest, in);
    }
  }

  /**
   * As {@link #putFile}, for a file whose bytes the caller hashed to exactly {@code digest} as it
   * wrote them, in a place only it writes to (a finished ByteStream upload): a store that can take
   * the file over may skip reading it once more to hash it. It still checks the size. Stores that
   * copy verify as {@link #putFile} does, which is this default.
   */
  default void putHashedFile(Digest digest, java.nio.file.Path file) throws IOException {
    putFile(digest, file);
  }

  /**
   * Asks a store with a size limit to make {@code bytes} more bytes fit now (used + bytes within
   * the limit), evicting if it must: a blob being written calls this as its bytes arrive (see
   * {@link RoomAhead}), so that the memory the evicted files held is reused for its pages at
   * once. It reserves nothing: calls do not add up, and the blob is still checked against the
   * limit when it is stored. The default does nothing.
   */
  default void makeRoomFor(long bytes) throws IOException {}

  /** The whole blob in memory; only for small blobs such as Directory messages. */
  default byte[] get(Digest digest) throws IOException {
    if (digest.sizeBytes() > MAX_IN_MEMORY_BYTES) {
      throw new BlobTooLargeException(digest, MAX_IN_MEMORY_BYTES);
    }
    try (InputStream in = openRead(digest, 0)) {
      byte[] bytes = in.readNBytes((int) digest.sizeBytes() + 1);
      if (bytes.length != digest.sizeBytes()) {
        throw DigestMismatchException.sizeDiffers(digest, bytes.length);
      }
      return bytes;
    }
  }

  default void put(Digest digest, byte[] data) throws IOException {
    put(digest, new ByteArrayInputStream(data));
  }

  /**
   * Stores several small blobs, each checked as by {@link #put(Digest, byte[])}; a remote store
   * sends them in one request. Blobs are stored independently: on failure some may be stored.
   */
  default void putAll(java.util.Map<Digest, byte[]> blobs) throws IOException {
    for (var e : blobs.entrySet()) {
      put(e.getKey(), e.getValue());
    }
  }

  /** Stores {@code data} under the digest this store computes for it, and returns that digest. */
  default Digest put(byte[] data) throws IOException {
    Digest digest = digestFunction().digestOf(data);
    put(digest, data);
    return digest;
  }

  default boolean contains(Digest digest) throws IOException {
    return findMissing(List.of(digest)).isEmpty();
  }

  @Override
  default void close() throws IOException {}
}
