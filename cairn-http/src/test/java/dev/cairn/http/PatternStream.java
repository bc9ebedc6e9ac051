package dev.cairn.http;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.io.IOException;
import java.io.InputStream;
import java.util.Random;

/**
 * Gigabytes of deterministic, non-repeating content without holding them: 1 MiB of random bytes
 * whose first eight bytes are replaced by the block's index. Fast enough not to be the bottleneck.
 */
final class PatternStream extends InputStream {
  private static final int BLOCK = 1 << 20;
  private final byte[] block = new byte[BLOCK];
  private final long size;
  private long position;

  PatternStream(long size, long seed) {
    this.size = size;
    new Random(seed).nextBytes(block);
  }

  /** The digest of {@code size} bytes of this pattern, computed by streaming it. */
  static Digest digest(long size, long seed) throws IOException {
    Hasher hasher = DigestFunction.SHA256.newHasher();
    try (PatternStream in = new PatternStream(size, seed)) {
      byte[] buf = new byte[BLOCK];
      for (int n; (n = in.read(buf, 0, buf.length)) > 0; ) {
        hasher.update(buf, 0, n);
      }
    }
    return hasher.finish();
  }

  /** The digest of everything {@code in} yields. */
  static Digest digestOf(InputStream in) throws IOException {
    return DigestFunction.SHA256.digestOf(in);
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) {
    if (position >= size) {
      return -1;
    }
    int inBlock = (int) (position % BLOCK);
    if (inBlock == 0) {
      long index = position / BLOCK;
      for (int i = 0; i < 8; i++) {
        block[i] = (byte) (index >>> (8 * i));
      }
    }
    int n = (int) Math.min(Math.min(len, BLOCK - inBlock), size - position);
    System.arraycopy(block, inBlock, b, off, n);
    position += n;
    return n;
  }
}
