package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;

/**
 * Checks bytes against their digest on the way in and on the way out, so that a store that
 * cannot be trusted (a remote, a peer, a disk that may rot) never hands a wrong byte to its
 * caller unnoticed. Whole reads are hashed; reads from an offset can only be checked for length.
 * A mismatch surfaces as {@link DigestMismatchException} where the stream would have ended.
 */
public final class VerifyingBlobStore extends ForwardingBlobStore {

  public VerifyingBlobStore(BlobStore delegate) {
    super(delegate);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    InputStream in = delegate.openRead(digest, offset);
    if (offset == 0) {
      return new VerifyingInputStream(in, digest, digestFunction());
    }
    return new LengthCheckingInputStream(in, digest, digest.sizeBytes() - offset);
  }

  @Override
  public byte[] get(Digest digest) throws IOException {
    byte[] bytes = delegate.get(digest);
    Digest actual = digestFunction().digestOf(bytes);
    if (!actual.equals(digest)) {
      throw DigestMismatchException.hashDiffers(digest, actual);
    }
    return bytes;
  }

  @Override
  public void put(Digest digest, InputStream data) throws IOException {
    delegate.put(digest, new VerifyingInputStream(data, digest, digestFunction()));
  }

  @Override
  public void putAll(java.util.Map<Digest, byte[]> blobs) throws IOException {
    for (var e : blobs.entrySet()) {
      Digest actual = digestFunction().digestOf(e.getValue());
      if (!actual.equals(e.getKey())) {
        throw DigestMismatchException.hashDiffers(e.getKey(), actual);
      }
    }
    delegate.putAll(blobs);
  }

  @Override
  public void putFile(Digest digest, java.nio.file.Path file) throws IOException {
    try (InputStream in = java.nio.file.Files.newInputStream(file)) {
      put(digest, in);
    }
  }

  /** Verifies anyway: this store trusts no caller. */
  @Override
  public void putHashedFile(Digest digest, java.nio.file.Path file) throws IOException {
    putFile(digest, file);
  }

  /** Fails at end-of-stream if the count of bytes is not the one expected. */
  private static final class LengthCheckingInputStream extends java.io.FilterInputStream {
    private final Digest digest;
    private final long expected;
    private long seen;

    LengthCheckingInputStream(InputStream in, Digest digest, long expected) {
      super(in);
      this.digest = digest;
      this.expected = expected;
    }

    @Override
    public int read() throws IOException {
      int b = in.read();
      if (b < 0) {
        check();
      } else if (++seen > expected) {
        throw DigestMismatchException.sizeDiffers(digest, digest.sizeBytes() - expected + seen);
      }
      return b;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = in.read(b, off, len);
      if (n < 0) {
        check();
        return -1;
      }
      seen += n;
      if (seen > expected) {
        throw DigestMismatchException.sizeDiffers(digest, digest.sizeBytes() - expected + seen);
      }
      return n;
    }

    private void check() throws IOException {
      if (seen != expected) {
        throw DigestMismatchException.sizeDiffers(digest, digest.sizeBytes() - expected + seen);
      }
    }
  }
}
