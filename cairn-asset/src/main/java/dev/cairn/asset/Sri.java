package dev.cairn.asset;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * A Subresource Integrity value, as in the {@code checksum.sri} qualifier: one or more
 * {@code <alg>-<base64>} tokens separated by spaces, with sha256, sha384 or sha512. As the SRI
 * spec says, only the strongest algorithm present counts, and content matches if it matches any
 * of that algorithm's values.
 */
public record Sri(String algorithm, List<byte[]> expected, String text) {

  /**
   * Parses an SRI string.
   *
   * @throws IllegalArgumentException naming the problem (unknown algorithm, bad base64, wrong length)
   */
  public static Sri parse(String text) {
    String strongest = null;
    List<byte[]> values = new ArrayList<>();
    String[] tokens = text.trim().split("\\s+");
    for (String token : tokens) {
      if (token.isEmpty()) {
        continue;
      }
      int q = token.indexOf('?');
      String t = q < 0 ? token : token.substring(0, q); // options are ignored, as the spec allows
      int dash = t.indexOf('-');
      if (dash < 0) {
        throw new IllegalArgumentException("invalid checksum.sri '" + text + "': expected <alg>-<base64>");
      }
      String alg = t.substring(0, dash).toLowerCase(Locale.ROOT);
      int length = switch (alg) {
        case "sha256" -> 32;
        case "sha384" -> 48;
        case "sha512" -> 64;
        default -> throw new IllegalArgumentException("invalid checksum.sri '" + text
            + "': unsupported algorithm '" + alg + "' (supported: sha256, sha384, sha512)");
      };
      byte[] value;
      try {
        value = Base64.getDecoder().decode(t.substring(dash + 1));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("invalid checksum.sri '" + text + "': " + e.getMessage());
      }
      if (value.length != length) {
        throw new IllegalArgumentException("invalid checksum.sri '" + text + "': " + alg + " needs "
            + length + " bytes, got " + value.length);
      }
      if (strongest == null || strength(alg) > strength(strongest)) {
        strongest = alg;
        values.clear();
      }
      if (alg.equals(strongest)) {
        values.add(value);
      }
    }
    if (strongest == null) {
      throw new IllegalArgumentException("invalid checksum.sri '" + text + "': empty");
    }
    return new Sri(strongest, List.copyOf(values), text.trim());
  }

  private static int strength(String alg) {
    return switch (alg) {
      case "sha256" -> 1;
      case "sha384" -> 2;
      default -> 3;
    };
  }

  /** A fresh hasher for this value's algorithm. */
  public MessageDigest newDigest() {
    try {
      return MessageDigest.getInstance(switch (algorithm) {
        case "sha256" -> "SHA-256";
        case "sha384" -> "SHA-384";
        default -> "SHA-512";
      });
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Whether {@code actual} (the hash of the content) matches one of the expected values. */
  public boolean matches(byte[] actual) {
    for (byte[] e : expected) {
      if (MessageDigest.isEqual(e, actual)) {
        return true;
      }
    }
    return false;
  }

  /** The SRI form of a hash of this value's algorithm. */
  public String format(byte[] actual) {
    return algorithm + "-" + Base64.getEncoder().encodeToString(actual);
  }

  @Override
  public String toString() {
    return text;
  }
}
