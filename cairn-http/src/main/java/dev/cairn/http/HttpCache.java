package dev.cairn.http;

import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.ac.ActionKey;
import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The stores as the HTTP cache protocol sees them: blobs and action results named by a hash
 * alone. Thread-safe. Blocking, called on virtual threads, except {@link #findIndexed} and
 * {@link #openIndexed}, which answer the common case (a hit in the disk store's index, a file in
 * the page cache) on the event loop and leave everything else to the blocking methods.
 *
 * <p><b>Finding a blob's size.</b> {@code GET /cas/<hash>} carries no size, but a {@link Digest}
 * needs one. With {@link BlobFiles} (the disk store) the store itself answers by hash, from its
 * in-memory index, which is exact and survives restarts. Without it (an in-memory or remote
 * store) a bounded {@link HashSizeIndex} remembers the sizes of blobs stored through this server;
 * a blob it does not know is a miss. A verified blob's size follows from its hash, so either
 * answer is the only one possible.
 *
 * <p><b>Action-cache keys.</b> HTTP entries are {@code ActionKey("", Digest(hash, 0))} for GET,
 * HEAD and PUT alike: the protocol has no instance name and no size. Size 0 cannot collide with a
 * gRPC key for the same action (a real Action message is never empty), so the two protocols keep
 * separate entries, as they do in Bazel.
 */
final class HttpCache {
  /** How many hash-to-size hints are kept when the store cannot look up by hash (~2 MiB). */
  static final int HASH_SIZE_INDEX_CAPACITY = 16_384;

  /**
   * Blobs up to this size are read whole and sent from memory with their headers in one write;
   * larger ones go by {@code sendfile(2)}. Reading whole is also how {@link #openIndexed}'s small
   * blobs get their size checked.
   */
  static final int READ_LIMIT = 64 << 10;

  /** An open blob to send: its file (zero-copy) or a stream. The receiver closes it. */
  sealed interface Blob extends AutoCloseable {
    Digest digest();

    @Override
    void close() throws IOException;
  }

  /**
   * A blob's open file. A {@code cached} one belongs to the open-file cache: closing it does
   * nothing, it is shared with other event loops (read it with positions only), and it may be
   * closed under the reader, who then gets a {@link java.nio.channels.ClosedChannelException}.
   */
  record FileBlob(Digest digest, FileChannel channel, boolean cached) implements Blob {
    FileBlob(Digest digest, FileChannel channel) {
      this(digest, channel, false);
    }

    @Override
    public void close() throws IOException {
      if (!cached) {
        channel.close();
      }
    }
  }

  record StreamBlob(Digest digest, InputStream stream) implements Blob {
    @Override
    public void close() throws IOException {
      stream.close();
    }
  }

  private final BlobStore cas;
  private final ActionCache actionCache;
  private final Optional<BlobFiles> files;
  private final HashSizeIndex sizes = new HashSizeIndex(HASH_SIZE_INDEX_CAPACITY);
  private final Digest empty;
  private final OpenDirectories directories = new OpenDirectories();
  private final OpenBlobFiles openFiles; // null: no blob files kept open between requests

  HttpCache(BlobStore cas, ActionCache actionCache, Optional<BlobFiles> files) {
    this(cas, actionCache, files, 0);
  }

  /**
   * @param openFiles how many small blobs' files {@link #openIndexed} keeps open between requests
   *     (see {@link OpenBlobFiles}); 0 for none. Files are kept open only if {@code files}
   *     reports the blobs the store removes.
   */
  HttpCache(BlobStore cas, ActionCache actionCache, Optional<BlobFiles> files, int openFiles) {
    this.cas = Objects.requireNonNull(cas, "cas");
    this.actionCache = Objects.requireNonNull(actionCache, "actionCache");
    this.files = Objects.requireNonNull(files, "files");
    this.empty = cas.digestFunction().emptyDigest();
    OpenBlobFiles open = openFiles > 0 ? new OpenBlobFiles(openFiles) : null;
    boolean reported = open != null && files.isPresent() && files.get().onRemoval(open::removed);
    this.openFiles = reported ? open : null;
  }

  /** The open-file cache, if there is one (for its meters). */
  Optional<OpenBlobFiles> openFiles() {
    return Optional.ofNullable(openFiles);
  }

  /** The key HTTP action-cache entries are stored under; see the class comment. */
  static ActionKey actionKey(String hash) {
    return new ActionKey("", new Digest(hash, 0));
  }

  /** The digest of the stored blob with this hash, if the store holds one. Counts as a use. */
  Optional<Digest> find(String hash) throws IOException {
    if (hash.equals(empty.hash())) {
      return Optional.of(empty);
    }
    if (files.isPresent()) {
      return files.get().findByHash(hash);
    }
    Optional<Digest> hint = sizes.find(hash);
    if (hint.isPresent() && !cas.findMissing(List.of(hint.get())).isEmpty()) {
      sizes.forget(hint.get());
      return Optional.empty();
    }
    return hint;
  }

  /**
   * {@link #find} from memory alone, for the event loop: the digest of a blob the store's index
   * holds, or of the empty blob. Empty means "ask {@link #find}", not "absent".
   */
  Optional<Digest> findIndexed(String hash) {
    if (hash.equals(empty.hash())) {
      return Optional.of(empty);
    }
    return files.flatMap(f -> f.findIndexed(hash)).map(BlobFiles.BlobFile::digest);
  }

  /**
   * {@link #open} without waiting, for the event loop: a blob the store's index holds, its file
   * opened (an {@code openat(2)} of a file whose inode is normally cached), or, for a small blob,
   * its file kept open from an earlier request (then {@link FileBlob#cached}). A file larger than
   * {@link #READ_LIMIT} is checked here to have the digest's size ({@code fstat(2)}), as the
   * store's own read path checks it; a smaller one is not, and <b>the caller must</b> check it
   * by reading the whole file (one byte more than the size is asked for). Empty means "ask
   * {@link #open}": a miss, a blob only the disk knows of, the empty blob (no file), an evicted
   * file, or a damaged one, which {@link #open} then drops through the store.
   */
  Optional<FileBlob> openIndexed(String hash) {
    long stamp = openFiles != null ? openFiles.stamp() : 0;
    Optional<BlobFiles.BlobFile> found = files.flatMap(f -> f.findIndexed(hash));
    if (found.isEmpty() || found.get().digest().sizeBytes() == 0) {
      return Optional.empty();
    }
    Digest digest = found.get().digest();
    boolean small = digest.sizeBytes() <= READ_LIMIT;
    if (small && openFiles != null) {
      FileChannel open = openFiles.find(digest);
      if (open != null) {
        return Optional.of(new FileBlob(digest, open, true));
      }
    }
    FileChannel channel;
    try {
      channel = directories.open(hash, found.get().path());
    } catch (IOException | RuntimeException e) {
      return Optional.empty(); // evicted in between, or worse: open() finds out and says which
    }
    if (small) {
      boolean cached = openFiles != null && openFiles.offer(digest, channel, stamp);
      return Optional.of(new FileBlob(digest, channel, cached));
    }
    try {
      if (channel.size() == digest.sizeBytes()) {
        return Optional.of(new FileBlob(digest, channel));
      }
    } catch (IOException e) {
      // as a wrong size: open() retries through the store, which reports it
    }
    try {
      channel.close();
    } catch (IOException e) {
      // a read-only file: nothing was lost
    }
    return Optional.empty();
  }

  /** Opens the blob with this hash, from its file when the store has one; empty on a miss. */
  Optional<Blob> open(String hash) throws IOException {
    Optional<Digest> found = hash.equals(empty.hash()) || files.isPresent()
        ? find(hash)
        : sizes.find(hash);
    if (found.isEmpty()) {
      return Optional.empty();
    }
    Digest digest = found.get();
    Optional<Path> path = files.isPresent() && digest.sizeBytes() > 0
        ? files.get().pathOf(digest)
        : Optional.empty();
    if (path.isPresent()) {
      FileChannel channel;
      try {
        channel = FileChannel.open(path.get(), StandardOpenOption.READ);
      } catch (NoSuchFileException e) {
        return Optional.empty(); // evicted in between
      }
      if (channel.size() == digest.sizeBytes()) {
        return Optional.of(new FileBlob(digest, channel));
      }
      channel.close(); // damaged: the store's own read path below drops it
    }
    // No file to send: stream it from the store.
    try {
      return Optional.of(new StreamBlob(digest, cas.openRead(digest, 0)));
    } catch (BlobNotFoundException e) {
      sizes.forget(digest);
      return Optional.empty();
    }
  }

  /**
   * A read of a blob {@link #openIndexed} gave failed, or found its file's length wrong: if its
   * file is cached, it is closed and not used again (the blocking path takes over).
   */
  void discard(FileBlob blob) {
    if (blob.cached() && openFiles != null) {
      openFiles.discard(blob.digest(), blob.channel());
    }
  }

  /**
   * Closes the directory handles and cached files {@link #openIndexed} keeps; later opens go by
   * path and are not cached.
   */
  void closeDirectories() {
    directories.close();
    if (openFiles != null) {
      openFiles.close();
    }
  }

  /** Stores a blob as {@link BlobStore#put} does: verified, visible only when complete. */
  void put(Digest digest, InputStream body) throws IOException {
    cas.put(digest, body);
    sizes.remember(digest);
  }

  Optional<byte[]> getAction(String hash) throws IOException {
    return actionCache.get(actionKey(hash));
  }

  void putAction(String hash, byte[] value) throws IOException {
    actionCache.put(actionKey(hash), value);
  }
}
