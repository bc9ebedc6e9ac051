package dev.cairn.fuse.cas;

import dev.cairn.core.blob.ForwardingBlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;

/**
 * The local store as a {@link dev.cairn.core.blob.BlobStore} that fills itself from the remote of
 * a {@link BlobSource} on a miss, so a {@code CasDirectory} (the lower tree of a writable mount)
 * reads a remote tree lazily, with every fetched blob verified and kept.
 */
public final class LocalFirstBlobStore extends ForwardingBlobStore {

  private final BlobSource blobs;

  public LocalFirstBlobStore(BlobSource blobs) {
    super(blobs.local());
    this.blobs = blobs;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    blobs.file(digest);
    return delegate.openRead(digest, offset);
  }

  @Override
  public byte[] get(Digest digest) throws IOException {
    return blobs.bytes(digest);
  }
}
