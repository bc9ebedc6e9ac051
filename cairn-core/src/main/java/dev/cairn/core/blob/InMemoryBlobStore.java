package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Blobs on the heap, unbounded: for tests and small tools. It verifies every put like a real
 * store, counts calls, and can be told to fail the next call of a kind, so that code above a
 * store can be tested against failures without a mock.
 */
public final class InMemoryBlobStore implements BlobStore {

  /** The calls a failure can be injected into. */
  public enum Operation {
    FIND_MISSING,
    OPEN_READ,
    PUT
  }

  private final DigestFunction function;
  private final Map<Digest, byte[]> blobs = new ConcurrentHashMap<>();
  private final Map<Operation, AtomicLong> calls = new ConcurrentHashMap<>();
  private final Map<Operation, AtomicReference<IOException>> failures = new ConcurrentHashMap<>();
  private final Digest empty;

  public InMemoryBlobStore(DigestFunction function) {
    this.function = Objects.requireNonNull(function, "function");
    this.empty = function.emptyDigest();
    for (Operation op : Operation.values()) {
      calls.put(op, new AtomicLong());
      failures.put(op, new AtomicReference<>());
    }
  }

  public InMemoryBlobStore() {
    this(DigestFunction.SHA256);
  }

  /** The next call of {@code operation} throws {@code failure} (once). */
  public void failNext(Operation operation, IOException failure) {
    failures.get(operation).set(failure);
  }

  /** How many times {@code operation} was called. */
  public long calls(Operation operation) {
    return calls.get(operation).get();
  }

  /** Blobs held, not counting the implicit empty blob. */
  public int size() {
    return blobs.size();
  }

  /** Drops a blob, as an eviction would. */
  public void remove(Digest digest) {
    blobs.remove(digest);
  }

  /** Replaces a stored blob's bytes without checking them: to simulate a store that rots. */
  public void corrupt(Digest digest, byte[] wrongBytes) {
    blobs.put(digest, wrongBytes.clone());
  }

  @Override
  public DigestFunction digestFunction() {
    return function;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    enter(Operation.FIND_MISSING);
    Set<Digest> missing = new LinkedHashSet<>();
    for (Digest d : digests) {
      if (!d.equals(empty) && !blobs.containsKey(d)) {
        missing.add(d);
      }
    }
    return missing;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    enter(Operation.OPEN_READ);
    byte[] bytes = digest.equals(empty) ? new byte[0] : blobs.get(digest);
    if (bytes == null) {
      throw new BlobNotFoundException(digest);
    }
    if (offset < 0 || offset > bytes.length) {
      throw new IllegalArgumentException(
          "offset " + offset + " is outside blob " + digest);
    }
    return new ByteArrayInputStream(bytes, (int) offset, bytes.length - (int) offset);
  }

  @Override
  public void put(Digest digest, InputStream data) throws IOException {
    enter(Operation.PUT);
    if (digest.sizeBytes() > Integer.MAX_VALUE - 16) {
      throw new StoreFullException("blob " + digest + " does not fit in memory");
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(digest.sizeBytes(), 1 << 20));
    new VerifyingInputStream(data, digest, function).transferTo(out);
    if (!digest.equals(empty)) {
      blobs.putIfAbsent(digest, out.toByteArray());
    }
  }

  private void enter(Operation op) throws IOException {
    calls.get(op).incrementAndGet();
    IOException failure = failures.get(op).getAndSet(null);
    if (failure != null) {
      throw failure;
    }
  }
}
