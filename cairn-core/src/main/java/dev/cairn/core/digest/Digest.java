package dev.cairn.core.digest;

import java.util.HexFormat;
import java.util.Objects;

/**
 * A content address: the lowercase hex hash of a blob and its size in bytes, as REAPI sends it.
 *
 * <p>A {@code Digest} that exists is valid: the hash is exactly {@link #HASH_HEX_LENGTH} lowercase
 * hex characters and the size is not negative, so code that holds one never re-checks it. Which
 * function produced the hash is not part of the value (REAPI digests do not carry it either); a
 * {@link dev.cairn.core.blob.BlobStore} knows its {@link DigestFunction}.
 */
public record Digest(String hash, long sizeBytes) implements Comparable<Digest> {

  /** SHA-256 and BLAKE3 both give 32-byte hashes, 64 hex characters. */
  public static final int HASH_HEX_LENGTH = 64;

  public Digest {
    Objects.requireNonNull(hash, "hash");
    if (hash.length() != HASH_HEX_LENGTH) {
      throw new IllegalArgumentException(
          "invalid digest hash '" + abbreviate(hash) + "': expected " + HASH_HEX_LENGTH
              + " hex characters, got " + hash.length());
    }
    for (int i = 0; i < hash.length(); i++) {
      char c = hash.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw new IllegalArgumentException(
            "invalid digest hash '" + abbreviate(hash) + "': character " + i
                + " is not lowercase hex");
      }
    }
    if (sizeBytes < 0) {
      throw new IllegalArgumentException(
          "invalid digest " + hash + "/" + sizeBytes + ": size is negative");
    }
  }

  /** A digest from raw hash bytes (32 of them) and a size. */
  public static Digest of(byte[] hashBytes, long sizeBytes) {
    return new Digest(HexFormat.of().formatHex(hashBytes), sizeBytes);
  }

  /**
   * Parses the text form {@code <hex>/<size>} (as in REAPI resource names and as Cairn prints
   * digests). Upper-case hex is accepted and normalized.
   *
   * @throws IllegalArgumentException naming the text when it is not a digest
   */
  public static Digest parse(String text) {
    Objects.requireNonNull(text, "text");
    int slash = text.indexOf('/');
    if (slash < 0 || slash != text.lastIndexOf('/')) {
      throw new IllegalArgumentException(
          "invalid digest '" + abbreviate(text) + "': expected <hex-hash>/<size-in-bytes>");
    }
    String sizeText = text.substring(slash + 1);
    long size;
    try {
      size = Long.parseLong(sizeText);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "invalid digest '" + abbreviate(text) + "': size '" + abbreviate(sizeText)
              + "' is not a number");
    }
    String hash = text.substring(0, slash);
    String lower = hash.toLowerCase(java.util.Locale.ROOT);
    return new Digest(lower, size);
  }

  /** Converts a wire digest, validating it. */
  public static Digest fromProto(build.bazel.remote.execution.v2.Digest proto) {
    return new Digest(proto.getHash(), proto.getSizeBytes());
  }

  public build.bazel.remote.execution.v2.Digest toProto() {
    return build.bazel.remote.execution.v2.Digest.newBuilder()
        .setHash(hash)
        .setSizeBytes(sizeBytes)
        .build();
  }

  /** The raw hash, 32 bytes. */
  public byte[] hashBytes() {
    return HexFormat.of().parseHex(hash);
  }

  /** The first 12 hex characters and the size, for log lines. */
  public String shortForm() {
    return hash.substring(0, 12) + "…/" + sizeBytes;
  }

  @Override
  public int compareTo(Digest other) {
    int c = hash.compareTo(other.hash);
    return c != 0 ? c : Long.compare(sizeBytes, other.sizeBytes);
  }

  /** The text form {@code <hex>/<size>}. */
  @Override
  public String toString() {
    return hash + "/" + sizeBytes;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
