package dev.cairn.core.digest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Locale;
import org.bouncycastle.crypto.digests.Blake3Digest;

/**
 * The hash functions Cairn addresses content with. SHA-256 is the default (every REAPI client
 * speaks it, and the JDK's implementation uses the CPU's SHA instructions); BLAKE3 is offered for
 * clients that ask for it.
 */
public enum DigestFunction {
  SHA256("sha256", build.bazel.remote.execution.v2.DigestFunction.Value.SHA256) {
    @Override
    public Hasher newHasher() {
      return new MessageDigestHasher(Sha256.fresh());
    }
  },
  BLAKE3("blake3", build.bazel.remote.execution.v2.DigestFunction.Value.BLAKE3) {
    @Override
    public Hasher newHasher() {
      return new Blake3Hasher();
    }
  };

  private final String cliName;
  private final build.bazel.remote.execution.v2.DigestFunction.Value proto;

  DigestFunction(String cliName, build.bazel.remote.execution.v2.DigestFunction.Value proto) {
    this.cliName = cliName;
    this.proto = proto;
  }

  /** A fresh incremental hasher. */
  public abstract Hasher newHasher();

  /** The lowercase name used on the command line and in paths: {@code sha256}, {@code blake3}. */
  public String cliName() {
    return cliName;
  }

  public build.bazel.remote.execution.v2.DigestFunction.Value toProto() {
    return proto;
  }

  /** The digest of the given bytes. */
  public Digest digestOf(byte[] bytes) {
    Hasher hasher = newHasher();
    hasher.update(bytes);
    return hasher.finish();
  }

  /** The digest of everything the stream yields; does not close the stream. */
  public Digest digestOf(InputStream in) throws IOException {
    Hasher hasher = newHasher();
    byte[] buffer = new byte[64 * 1024];
    for (int n; (n = in.read(buffer)) >= 0; ) {
      hasher.update(buffer, 0, n);
    }
    return hasher.finish();
  }

  /** The digest of the empty blob, which every store holds implicitly. */
  public Digest emptyDigest() {
    return digestOf(new byte[0]);
  }

  /** Parses {@code sha256} / {@code blake3} (case-insensitive, {@code sha-256} accepted). */
  public static DigestFunction parse(String name) {
    String n = name.toLowerCase(Locale.ROOT).replace("-", "");
    for (DigestFunction f : values()) {
      if (f.cliName.equals(n)) {
        return f;
      }
    }
    throw new IllegalArgumentException(
        "unknown digest function '" + name + "': expected sha256 or blake3");
  }

  /**
   * The function a REAPI request names; {@code UNKNOWN} (the field left unset) means the given
   * default, as the protocol says.
   *
   * @throws IllegalArgumentException for a function Cairn does not implement
   */
  public static DigestFunction fromProto(
      build.bazel.remote.execution.v2.DigestFunction.Value value, DigestFunction defaultFunction) {
    if (value == build.bazel.remote.execution.v2.DigestFunction.Value.UNKNOWN) {
      return defaultFunction;
    }
    for (DigestFunction f : values()) {
      if (f.proto == value) {
        return f;
      }
    }
    throw new IllegalArgumentException("unsupported digest function " + value);
  }

  /**
   * Fresh SHA-256 digests cloned from one that is never updated: {@code getInstance} looks the
   * provider up and constructs through reflection each time, which showed in imports of many small
   * files (one hasher per file).
   */
  private static final class Sha256 {
    private static final MessageDigest PROTOTYPE = lookUp();

    static MessageDigest fresh() {
      try {
        return (MessageDigest) PROTOTYPE.clone();
      } catch (CloneNotSupportedException e) {
        return lookUp();
      }
    }

    private static MessageDigest lookUp() {
      try {
        return MessageDigest.getInstance("SHA-256");
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("the JDK has no SHA-256", e);
      }
    }
  }

  private static final class MessageDigestHasher implements Hasher {
    private final MessageDigest md;
    private long size;

    MessageDigestHasher(MessageDigest md) {
      this.md = md;
    }

    @Override
    public void update(byte[] bytes, int offset, int length) {
      md.update(bytes, offset, length);
      size += length;
    }

    private byte[] chunk;

    @Override
    public void update(ByteBuffer buffer) {
      int n = buffer.remaining();
      size += n;
      if (buffer.hasArray()) {
        md.update(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
        buffer.position(buffer.limit());
        return;
      }
      // MessageDigest's own direct-buffer path copies in small steps; do it in large ones.
      if (chunk == null) {
        chunk = new byte[64 * 1024];
      }
      while (buffer.hasRemaining()) {
        int c = Math.min(chunk.length, buffer.remaining());
        buffer.get(chunk, 0, c);
        md.update(chunk, 0, c);
      }
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public Digest finish() {
      return Digest.of(md.digest(), size);
    }
  }

  private static final class Blake3Hasher implements Hasher {
    private final Blake3Digest blake3 = new Blake3Digest(256);
    private long size;

    @Override
    public void update(byte[] bytes, int offset, int length) {
      blake3.update(bytes, offset, length);
      size += length;
    }

    @Override
    public void update(ByteBuffer buffer) {
      int n = buffer.remaining();
      if (buffer.hasArray()) {
        blake3.update(buffer.array(), buffer.arrayOffset() + buffer.position(), n);
        buffer.position(buffer.limit());
      } else {
        byte[] chunk = new byte[Math.min(n, 64 * 1024)];
        while (buffer.hasRemaining()) {
          int c = Math.min(chunk.length, buffer.remaining());
          buffer.get(chunk, 0, c);
          blake3.update(chunk, 0, c);
        }
      }
      size += n;
    }

    @Override
    public long size() {
      return size;
    }

    @Override
    public Digest finish() {
      byte[] out = new byte[32];
      blake3.doFinal(out, 0);
      return Digest.of(out, size);
    }
  }
}
