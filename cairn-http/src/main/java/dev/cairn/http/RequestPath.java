package dev.cairn.http;

import io.netty.handler.codec.http.QueryStringDecoder;

/**
 * What a request URI names, validated once: a CAS blob or action-cache entry (the last two path
 * segments decide, so any prefix such as {@code /ccache/ac/<hash>} works, as Bazel and ccache
 * keep the prefix of the URL they are given), the health check, the metrics, or nothing known.
 * A URI with {@code ..} or NUL anywhere, bad percent-encoding, or a key that is not 64 lowercase
 * hex characters is {@link Malformed}.
 */
sealed interface RequestPath {

  /** Which store a key addresses; also the {@code kind} tag of the request metrics. */
  enum Kind {
    CAS("cas"),
    AC("ac");

    private final String segment;

    Kind(String segment) {
      this.segment = segment;
    }

    String segment() {
      return segment;
    }
  }

  /** {@code .../cas/<hash>} or {@code .../ac/<hash>}; the hash is valid lowercase hex. */
  record Key(Kind kind, String hash) implements RequestPath {}

  record Health() implements RequestPath {}

  record Metrics() implements RequestPath {}

  record Unknown(String path) implements RequestPath {}

  record Malformed(String reason) implements RequestPath {}

  int HASH_HEX_LENGTH = dev.cairn.core.digest.Digest.HASH_HEX_LENGTH;

  static RequestPath parse(String uri) {
    if (uri.indexOf('\0') >= 0 || uri.contains("..")) {
      return new Malformed("path must not contain '..' or NUL");
    }
    String path = uri;
    // What clients send is a plain path; only decode when there is something to decode.
    if (uri.indexOf('%') >= 0 || uri.indexOf('?') >= 0 || uri.indexOf('#') >= 0) {
      try {
        path = new QueryStringDecoder(uri).path();
      } catch (IllegalArgumentException e) {
        return new Malformed("bad percent-encoding in path");
      }
      if (path.indexOf('\0') >= 0 || path.contains("..")) {
        return new Malformed("path must not contain '..' or NUL");
      }
    }
    // The last two non-empty segments, and whether there are 1, 2 or more of them.
    String last = null;
    String beforeLast = null;
    int segments = 0;
    for (int end = path.length(); end > 0 && segments < 3; ) {
      int slash = path.lastIndexOf('/', end - 1);
      if (slash < end - 1) {
        String segment = path.substring(slash + 1, end);
        if (segments == 0) {
          last = segment;
        } else if (segments == 1) {
          beforeLast = segment;
        }
        segments++;
      }
      end = slash;
    }
    if (segments == 1 && last.equals("healthz")) {
      return new Health();
    }
    if (segments == 1 && last.equals("metrics")) {
      return new Metrics();
    }
    if (segments >= 2) {
      for (Kind kind : Kind.values()) {
        if (kind.segment().equals(beforeLast)) {
          String hash = last;
          return isHash(hash)
              ? new Key(kind, hash)
              : new Malformed("malformed " + kind.segment() + " key '" + abbreviate(hash)
                  + "': expected " + HASH_HEX_LENGTH + " lowercase hex characters");
        }
      }
    }
    return new Unknown(path);
  }

  private static boolean isHash(String s) {
    if (s.length() != HASH_HEX_LENGTH) {
      return false;
    }
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
