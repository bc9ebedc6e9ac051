package dev.cairn.asset;

import dev.cairn.core.digest.DigestFunction;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One name in the asset index: what kind of content (a blob or a directory tree), the instance
 * name (which partitions the index as it partitions the action cache), the digest function, one
 * URI and the full set of qualifiers. A request with several URIs (mirrors) is recorded under each
 * of them, so that a later request naming any one of them with the same qualifiers is answered, as
 * the Remote Asset spec allows.
 */
public record AssetKey(
    Kind kind, String instance, DigestFunction function, String uri, SortedMap<String, String> qualifiers) {

  /** FetchBlob/PushBlob and FetchDirectory/PushDirectory mappings are kept apart. */
  public enum Kind {
    BLOB, DIRECTORY
  }

  public AssetKey {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(function, "function");
    Objects.requireNonNull(uri, "uri");
    if (uri.isEmpty()) {
      throw new IllegalArgumentException("empty URI");
    }
    qualifiers = Collections.unmodifiableSortedMap(new TreeMap<>(qualifiers));
  }

  public static AssetKey of(Kind kind, String instance, DigestFunction function, String uri,
      Map<String, String> qualifiers) {
    return new AssetKey(kind, instance, function, uri, new TreeMap<>(qualifiers));
  }

  /**
   * A SHA-256 over an unambiguous encoding of every part (each length-prefixed), used as the
   * index file name; equal keys give equal hashes whatever the qualifiers' order was.
   */
  public String hash() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    field(out, "cairn-asset-key/1");
    field(out, kind.name());
    field(out, function.cliName());
    field(out, instance);
    field(out, uri);
    for (var q : qualifiers.entrySet()) {
      field(out, q.getKey());
      field(out, q.getValue());
    }
    return DigestFunction.SHA256.digestOf(out.toByteArray()).hash();
  }

  private static void field(ByteArrayOutputStream out, String s) {
    byte[] b = s.getBytes(StandardCharsets.UTF_8);
    out.writeBytes((b.length + ":").getBytes(StandardCharsets.US_ASCII));
    out.writeBytes(b);
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(java.util.Locale.ROOT) + " " + (instance.isEmpty() ? "" : instance + " ")
        + uri + (qualifiers.isEmpty() ? "" : " " + qualifiers);
  }
}
