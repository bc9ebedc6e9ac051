package dev.cairn.asset.archive;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The archive formats FetchDirectory unpacks, named either by the Remote Asset {@code
 * resource_type} qualifier (a media type, as the qualifier lexicon asks) or recognised from the
 * archive's first bytes when the client does not say.
 */
public enum ArchiveFormat {
  TAR, TAR_GZ, TAR_XZ, TAR_BZ2, TAR_ZST, ZIP;

  /**
   * Media types accepted for each format. A compressed single-file type ({@code application/gzip})
   * means a compressed tar here: FetchDirectory asks for a tree, and a tree needs an archive.
   */
  private static final Map<String, ArchiveFormat> MEDIA_TYPES = Map.ofEntries(
      Map.entry("application/x-tar", TAR),
      Map.entry("application/tar", TAR),
      Map.entry("application/x-gtar", TAR),
      Map.entry("application/x-ustar", TAR),
      Map.entry("application/gzip", TAR_GZ),
      Map.entry("application/x-gzip", TAR_GZ),
      Map.entry("application/x-compressed-tar", TAR_GZ),
      Map.entry("application/x-tgz", TAR_GZ),
      Map.entry("application/x-gtar-compressed", TAR_GZ),
      Map.entry("application/x-xz", TAR_XZ),
      Map.entry("application/x-xz-compressed-tar", TAR_XZ),
      Map.entry("application/x-bzip2", TAR_BZ2),
      Map.entry("application/x-bzip", TAR_BZ2),
      Map.entry("application/x-bzip2-compressed-tar", TAR_BZ2),
      Map.entry("application/x-bzip-compressed-tar", TAR_BZ2),
      Map.entry("application/zstd", TAR_ZST),
      Map.entry("application/x-zstd", TAR_ZST),
      Map.entry("application/x-zstd-compressed-tar", TAR_ZST),
      Map.entry("application/zip", ZIP),
      Map.entry("application/x-zip-compressed", ZIP),
      Map.entry("application/x-zip", ZIP));

  /**
   * The format a {@code resource_type} qualifier value names, or empty if it names none (the
   * caller decides whether that is an error: {@code application/x-git} is not an archive).
   * Parameters after {@code ;} and letter case are ignored, as media types allow.
   */
  public static Optional<ArchiveFormat> lookupResourceType(String mediaType) {
    if (mediaType == null) {
      return Optional.empty();
    }
    int semicolon = mediaType.indexOf(';');
    String bare = (semicolon < 0 ? mediaType : mediaType.substring(0, semicolon))
        .strip().toLowerCase(Locale.ROOT);
    return Optional.ofNullable(MEDIA_TYPES.get(bare));
  }

  /**
   * The format a {@code resource_type} qualifier value names.
   *
   * @throws IllegalArgumentException naming the value and the accepted types if it names none
   */
  public static ArchiveFormat fromResourceType(String mediaType) {
    return lookupResourceType(mediaType).orElseThrow(() -> new IllegalArgumentException(
        "resource_type '" + mediaType + "' is not an archive type Cairn unpacks; accepted: "
            + String.join(", ", new java.util.TreeSet<>(MEDIA_TYPES.keySet()))));
  }

  /** The bytes looked at by {@link #detect}: a tar header is 512 bytes. */
  private static final int SNIFF_BYTES = 512;

  /**
   * Recognises the format of the archive at {@code archive} from its first bytes: the zip, gzip,
   * xz, bzip2 and zstd magic numbers, and for plain tar the {@code ustar} magic or, for old (v7)
   * archives, a header whose checksum is right.
   *
   * @throws InvalidArchiveException naming the file if none matches
   */
  public static ArchiveFormat detect(Path archive) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(archive)) {
      head = in.readNBytes(SNIFF_BYTES);
    }
    return detect(head).orElseThrow(() -> new InvalidArchiveException(
        InvalidArchiveException.Reason.CORRUPT,
        archive + ": not a recognised archive (tar, tar.gz, tar.xz, tar.bz2, tar.zst or zip); "
            + "it starts with " + hexStart(head)));
  }

  /** The format {@code head} (an archive's first bytes, up to 512) shows, if any. */
  static Optional<ArchiveFormat> detect(byte[] head) {
    if (startsWith(head, 'P', 'K', 3, 4) || startsWith(head, 'P', 'K', 5, 6)
        || startsWith(head, 'P', 'K', 7, 8)) {
      return Optional.of(ZIP);
    }
    if (startsWith(head, 0x1f, 0x8b)) {
      return Optional.of(TAR_GZ);
    }
    if (startsWith(head, 0xfd, '7', 'z', 'X', 'Z', 0)) {
      return Optional.of(TAR_XZ);
    }
    if (startsWith(head, 'B', 'Z', 'h') && head.length > 3 && head[3] >= '1' && head[3] <= '9') {
      return Optional.of(TAR_BZ2);
    }
    if (startsWith(head, 0x28, 0xb5, 0x2f, 0xfd)) {
      return Optional.of(TAR_ZST);
    }
    if (head.length >= SNIFF_BYTES
        && (new String(head, 257, 5, StandardCharsets.US_ASCII).equals("ustar")
            || tarChecksumMatches(head))) {
      return Optional.of(TAR);
    }
    return Optional.empty();
  }

  private static boolean startsWith(byte[] head, int... magic) {
    if (head.length < magic.length) {
      return false;
    }
    for (int i = 0; i < magic.length; i++) {
      if ((head[i] & 0xff) != magic[i]) {
        return false;
      }
    }
    return true;
  }

  /** A v7 tar header: the octal checksum at 148 equals the byte sum with that field as spaces. */
  private static boolean tarChecksumMatches(byte[] header) {
    long stored = 0;
    boolean digits = false;
    for (int i = 148; i < 156; i++) {
      int c = header[i] & 0xff;
      if (c >= '0' && c <= '7') {
        stored = stored * 8 + (c - '0');
        digits = true;
      } else if (c != ' ' && c != 0) {
        return false;
      } else if (digits) {
        break;
      }
    }
    if (!digits) {
      return false;
    }
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (header[i] & 0xff);
    }
    return sum == stored && header[0] != 0;
  }

  private static String hexStart(byte[] head) {
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < Math.min(8, head.length); i++) {
      b.append(String.format("%02x ", head[i] & 0xff));
    }
    return head.length == 0 ? "nothing (empty file)" : b.toString().strip();
  }
}
