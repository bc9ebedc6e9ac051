package dev.cairn.asset.archive;

import dev.cairn.asset.archive.InvalidArchiveException.Reason;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;

/**
 * Turns entry contents into blobs as the archive is read: small ones are kept and sent in batches
 * ({@code findMissing}, then one {@code putAll}), large ones are spooled to a scratch file while
 * they are hashed (their digest is known only at the end) and handed to the store with {@code
 * putFile}. Uploads run in the background, at most {@link #IN_FLIGHT} at a time, so the heap holds
 * at most a few batches whatever the archive's size. Also enforces the byte limit, on the bytes
 * actually read. Used by one thread; closing it waits for nothing and deletes its scratch files.
 */
final class BlobUploader implements AutoCloseable {

  /** Files up to this size are read into memory and batched. */
  static final int SMALL_FILE = 256 * 1024;
  private static final long BATCH_BYTES = 2L << 20;
  private static final int BATCH_BLOBS = 1000;
  private static final int IN_FLIGHT = 4;

  private final BlobStore store;
  private final DigestFunction function;
  private final Path scratch;
  private final long maxBytes;
  private final String archive;
  private final Digest empty;
  private final byte[] buffer = new byte[SMALL_FILE + 1];
  private final Set<Digest> sent = new HashSet<>();
  private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
  private final Semaphore slots = new Semaphore(IN_FLIGHT);
  private final List<Future<?>> uploads = new ArrayList<>();
  private Map<Digest, byte[]> batch = new LinkedHashMap<>();
  private long batchBytes;
  private long totalBytes;
  private long spoolCounter;

  BlobUploader(BlobStore store, DigestFunction function, Path scratch, long maxBytes,
      String archive) {
    this.store = store;
    this.function = function;
    this.scratch = scratch;
    this.maxBytes = maxBytes;
    this.archive = archive;
    this.empty = function.emptyDigest();
  }

  /** Bytes of content read so far. */
  long totalBytes() {
    return totalBytes;
  }

  /** Reads {@code in} to its end and returns the digest of its bytes; the blob gets stored. */
  Digest putContent(InputStream in, String entry) throws IOException {
    int n = in.readNBytes(buffer, 0, buffer.length);
    if (n <= SMALL_FILE) {
      count(n, entry);
      byte[] bytes = java.util.Arrays.copyOf(buffer, n);
      Digest digest = function.digestOf(bytes);
      addSmall(digest, bytes);
      return digest;
    }
    return spool(in, n, entry);
  }

  /** Reads a small content (a symlink target) fully, counting it against the limit. */
  byte[] readSmall(InputStream in, int max, String entry) throws IOException {
    byte[] bytes = in.readNBytes(max + 1);
    if (bytes.length > max) {
      throw new InvalidArchiveException(Reason.UNSUPPORTED_ENTRY, archive + ": entry '"
          + EntryPath.printable(entry) + "' refused: symlink target longer than " + max + " bytes");
    }
    count(bytes.length, entry);
    return bytes;
  }

  /** Stores a Directory message (batched like small files). */
  void putDirectory(Digest digest, byte[] encoded) throws IOException {
    addSmall(digest, encoded);
  }

  private Digest spool(InputStream in, int first, String entry) throws IOException {
    Path file = scratch.resolve("spool-" + (spoolCounter++));
    Hasher hasher = function.newHasher();
    boolean handedOver = false;
    try {
      try (OutputStream out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE)) {
        for (int n = first; n > 0; n = in.read(buffer)) {
          count(n, entry);
          hasher.update(buffer, 0, n);
          out.write(buffer, 0, n);
        }
      }
      Digest digest = hasher.finish();
      if (sent.add(digest)) {
        submit(() -> {
          try {
            if (!store.contains(digest)) {
              store.putHashedFile(digest, file); // hashed above as it was spooled
            }
          } finally {
            Files.deleteIfExists(file);
          }
        });
        handedOver = true;
      }
      return digest;
    } finally {
      if (!handedOver) {
        Files.deleteIfExists(file);
      }
    }
  }

  void count(long n, String entry) throws InvalidArchiveException {
    totalBytes += n;
    if (totalBytes > maxBytes) {
      throw new InvalidArchiveException(Reason.LIMIT_EXCEEDED, archive + ": extraction stopped at entry '"
          + EntryPath.printable(entry) + "': the archive unpacks to more than " + maxBytes
          + " bytes (the limit)");
    }
  }

  private void addSmall(Digest digest, byte[] bytes) throws IOException {
    if (digest.equals(empty) || !sent.add(digest)) {
      return;
    }
    batch.put(digest, bytes);
    batchBytes += bytes.length;
    if (batchBytes >= BATCH_BYTES || batch.size() >= BATCH_BLOBS) {
      flushBatch();
    }
  }

  private void flushBatch() throws IOException {
    if (batch.isEmpty()) {
      return;
    }
    Map<Digest, byte[]> full = batch;
    batch = new LinkedHashMap<>();
    batchBytes = 0;
    submit(() -> {
      Set<Digest> missing = store.findMissing(full.keySet());
      if (missing.size() != full.size()) {
        full.keySet().retainAll(missing);
      }
      store.putAll(full);
    });
  }

  private interface Upload {
    void run() throws IOException;
  }

  private void submit(Upload upload) throws IOException {
    try {
      slots.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while importing " + archive);
    }
    checkFailures();
    uploads.add(pool.submit(() -> {
      try {
        upload.run();
        return null;
      } finally {
        slots.release();
      }
    }));
  }

  /** Rethrows the first failure of an upload that has finished, so a full store stops early. */
  private void checkFailures() throws IOException {
    var it = uploads.iterator();
    while (it.hasNext()) {
      Future<?> f = it.next();
      if (f.isDone()) {
        await(f);
        it.remove();
      }
    }
  }

  /** Sends what is still batched and waits for every upload; rethrows the first failure. */
  void finish() throws IOException {
    flushBatch();
    for (Future<?> f : uploads) {
      await(f);
    }
    uploads.clear();
  }

  private void await(Future<?> f) throws IOException {
    try {
      f.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while importing " + archive);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw new IOException(archive + ": storing its contents failed: " + io.getMessage(), io);
      }
      throw new IOException(archive + ": storing its contents failed: " + cause, cause);
    }
  }

  @Override
  public void close() {
    for (Future<?> f : uploads) {
      f.cancel(true);
    }
    pool.close();
  }
}
