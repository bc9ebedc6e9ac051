package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collection;
import java.util.Set;

/**
 * A BlobStore that passes every call to another one: the base of decorators, which override only
 * what they add to.
 */
public abstract class ForwardingBlobStore implements BlobStore {
  protected final BlobStore delegate;

  protected ForwardingBlobStore(BlobStore delegate) {
    this.delegate = java.util.Objects.requireNonNull(delegate, "delegate");
  }

  @Override
  public DigestFunction digestFunction() {
    return delegate.digestFunction();
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    return delegate.findMissing(digests);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    return delegate.openRead(digest, offset);
  }

  @Override
  public void put(Digest digest, InputStream data) throws IOException {
    delegate.put(digest, data);
  }

  @Override
  public void putFile(Digest digest, java.nio.file.Path file) throws IOException {
    delegate.putFile(digest, file);
  }

  @Override
  public void putHashedFile(Digest digest, java.nio.file.Path file) throws IOException {
    delegate.putHashedFile(digest, file);
  }

  @Override
  public void makeRoomFor(long bytes) throws IOException {
    delegate.makeRoomFor(bytes);
  }

  @Override
  public void putAll(java.util.Map<Digest, byte[]> blobs) throws IOException {
    delegate.putAll(blobs);
  }

  @Override
  public byte[] get(Digest digest) throws IOException {
    return delegate.get(digest);
  }

  @Override
  public void close() throws IOException {
    delegate.close();
  }
}
