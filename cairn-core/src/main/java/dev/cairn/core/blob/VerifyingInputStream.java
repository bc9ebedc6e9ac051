package dev.cairn.core.blob;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Passes bytes through while hashing them, and fails instead of reporting end-of-stream if they
 * did not match the expected digest; fails as soon as more bytes than the digest's size arrive.
 * A consumer that stores what it reads therefore never commits a wrong blob: it sees an exception
 * where it would have seen EOF.
 */
public final class VerifyingInputStream extends FilterInputStream {
  private final Digest expected;
  private final Hasher hasher;
  private boolean verified;

  public VerifyingInputStream(InputStream in, Digest expected, DigestFunction function) {
    super(in);
    this.expected = expected;
    this.hasher = function.newHasher();
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    long remaining = expected.sizeBytes() - hasher.size();
    // Ask for one byte beyond the expected end so that excess data is noticed.
    int want = (int) Math.min(len, remaining + 1);
    int n = in.read(b, off, want);
    if (n < 0) {
      verify();
      return -1;
    }
    hasher.update(b, off, n);
    if (hasher.size() > expected.sizeBytes()) {
      throw DigestMismatchException.sizeDiffers(expected, hasher.size());
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    byte[] buffer = new byte[(int) Math.min(n, 8192)];
    long skipped = 0;
    while (skipped < n) {
      int r = read(buffer, 0, (int) Math.min(buffer.length, n - skipped));
      if (r < 0) {
        break;
      }
      skipped += r;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  private void verify() throws IOException {
    if (verified) {
      return;
    }
    if (hasher.size() != expected.sizeBytes()) {
      throw DigestMismatchException.sizeDiffers(expected, hasher.size());
    }
    Digest actual = hasher.finish();
    if (!actual.equals(expected)) {
      throw DigestMismatchException.hashDiffers(expected, actual);
    }
    verified = true;
  }
}
