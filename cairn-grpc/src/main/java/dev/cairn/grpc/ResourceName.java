package dev.cairn.grpc;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.util.List;
import java.util.Set;

/**
 * A parsed ByteStream resource name, validated. Reads name
 * {@code [{instance}/]blobs/[{function}/]{hash}/{size}} or
 * {@code [{instance}/]compressed-blobs/zstd/[{function}/]{hash}/{size}}; writes put
 * {@code uploads/{uuid}/} before that and may end with optional metadata segments.
 *
 * <p>Instance names are free-form but never contain an empty, {@code .} or {@code ..} segment or
 * one of the protocol's reserved words, so no resource name can smuggle a path.
 */
public record ResourceName(
    String instanceName, String uploadId, boolean compressed, DigestFunction function,
    Digest digest) {

  private static final Set<String> RESERVED =
      Set.of("blobs", "uploads", "compressed-blobs", "actions", "actionResults", "operations",
          "capabilities");

  /** Parses a Read resource name. */
  public static ResourceName parseRead(String name) {
    List<String> parts = split(name);
    int i = 0;
    while (i < parts.size() && !parts.get(i).equals("blobs") && !parts.get(i).equals("compressed-blobs")) {
      i++;
    }
    if (i == parts.size()) {
      throw invalid(name, "expected [instance/]blobs/<hash>/<size> or [instance/]compressed-blobs/zstd/<hash>/<size>");
    }
    String instance = instance(name, parts.subList(0, i));
    return parseBlob(name, instance, "", parts, i, false);
  }

  /** Parses a Write resource name. */
  public static ResourceName parseWrite(String name) {
    List<String> parts = split(name);
    int i = parts.indexOf("uploads");
    if (i < 0 || i + 2 >= parts.size()) {
      throw invalid(name, "expected [instance/]uploads/<uuid>/blobs/<hash>/<size>");
    }
    String instance = instance(name, parts.subList(0, i));
    String uuid = parts.get(i + 1);
    if (uuid.isEmpty() || RESERVED.contains(uuid)) {
      throw invalid(name, "missing upload id after 'uploads/'");
    }
    return parseBlob(name, instance, uuid, parts, i + 2, true);
  }

  private static ResourceName parseBlob(
      String name, String instance, String uuid, List<String> parts, int at, boolean allowMetadata) {
    boolean compressed = parts.get(at).equals("compressed-blobs");
    if (!compressed && !parts.get(at).equals("blobs")) {
      throw invalid(name, "expected 'blobs' or 'compressed-blobs' after the upload id");
    }
    int i = at + 1;
    if (compressed) {
      if (i >= parts.size()) {
        throw invalid(name, "missing compressor");
      }
      if (!parts.get(i).equals("zstd")) {
        throw invalid(name, "unsupported compressor '" + parts.get(i) + "' (supported: zstd)");
      }
      i++;
    }
    DigestFunction function = DigestFunction.SHA256;
    if (i < parts.size() && (parts.get(i).equals("sha256") || parts.get(i).equals("blake3"))) {
      function = DigestFunction.parse(parts.get(i));
      i++;
    }
    if (i + 2 > parts.size()) {
      throw invalid(name, "missing <hash>/<size>");
    }
    if (!allowMetadata && i + 2 != parts.size()) {
      throw invalid(name, "unexpected segments after <hash>/<size>");
    }
    Digest digest;
    try {
      long size = Long.parseLong(parts.get(i + 1));
      digest = new Digest(parts.get(i), size);
    } catch (IllegalArgumentException e) {
      throw invalid(name, e.getMessage());
    }
    return new ResourceName(instance, uuid, compressed, function, digest);
  }

  private static List<String> split(String name) {
    if (name == null || name.isEmpty()) {
      throw new IllegalArgumentException("empty resource name");
    }
    if (name.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("resource name contains NUL");
    }
    return List.of(name.split("/", -1));
  }

  private static String instance(String name, List<String> segments) {
    for (String s : segments) {
      if (s.isEmpty() || s.equals(".") || s.equals("..") || RESERVED.contains(s)) {
        throw invalid(name, "invalid instance name segment '" + s + "'");
      }
    }
    return String.join("/", segments);
  }

  private static IllegalArgumentException invalid(String name, String why) {
    String shown = name.length() > 200 ? name.substring(0, 200) + "..." : name;
    return new IllegalArgumentException("invalid resource name '" + shown + "': " + why);
  }
}
