package dev.cairn.asset;

import dev.cairn.asset.archive.ArchiveFormat;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Which {@link ArchiveFormat} a download is: from the {@code resource_type} qualifier if given,
 * else from the URI's file name, else from the first bytes of the content.
 */
final class ArchiveTypes {
  private ArchiveTypes() {}

  /**
   * The format a {@code resource_type} value names.
   *
   * @throws IllegalArgumentException naming the value if it is not an archive type Cairn unpacks
   */
  static ArchiveFormat fromResourceType(String type) {
    return switch (type.trim().toLowerCase(Locale.ROOT)) {
      case "application/x-tar", "tar" -> ArchiveFormat.TAR;
      case "application/gzip", "application/x-gzip", "application/x-compressed-tar",
          "application/x-tar+gzip", "application/tar+gzip", "tar.gz", "tgz" -> ArchiveFormat.TAR_GZ;
      case "application/x-xz", "application/x-xz-compressed-tar", "application/x-tar+xz",
          "tar.xz", "txz" -> ArchiveFormat.TAR_XZ;
      case "application/x-bzip2", "application/x-bzip2-compressed-tar", "application/x-tar+bzip2",
          "tar.bz2", "tbz2" -> ArchiveFormat.TAR_BZ2;
      case "application/zstd", "application/x-zstd-compressed-tar", "application/x-tar+zstd",
          "tar.zst" -> ArchiveFormat.TAR_ZST;
      case "application/zip", "application/x-zip-compressed", "zip" -> ArchiveFormat.ZIP;
      default -> throw new IllegalArgumentException("resource_type '" + type
          + "' is not an archive type Cairn unpacks (tar, tar.gz, tar.xz, tar.bz2, tar.zst, zip)");
    };
  }

  /** The format the URI's path suggests, if its name ends like an archive. */
  static Optional<ArchiveFormat> fromName(String uri) {
    String path = uri.toLowerCase(Locale.ROOT).replaceAll("[?#].*$", "");
    if (path.endsWith(".tar.gz") || path.endsWith(".tgz")) {
      return Optional.of(ArchiveFormat.TAR_GZ);
    } else if (path.endsWith(".tar.xz") || path.endsWith(".txz")) {
      return Optional.of(ArchiveFormat.TAR_XZ);
    } else if (path.endsWith(".tar.bz2") || path.endsWith(".tbz2")) {
      return Optional.of(ArchiveFormat.TAR_BZ2);
    } else if (path.endsWith(".tar.zst") || path.endsWith(".tzst")) {
      return Optional.of(ArchiveFormat.TAR_ZST);
    } else if (path.endsWith(".tar")) {
      return Optional.of(ArchiveFormat.TAR);
    } else if (path.endsWith(".zip") || path.endsWith(".jar")) {
      return Optional.of(ArchiveFormat.ZIP);
    }
    return Optional.empty();
  }

  /** The format the content's magic bytes show (compressed streams are taken to hold a tar). */
  static Optional<ArchiveFormat> sniff(Path file) throws IOException {
    byte[] head;
    try (InputStream in = Files.newInputStream(file)) {
      head = in.readNBytes(512);
    }
    if (starts(head, 0x1f, 0x8b)) {
      return Optional.of(ArchiveFormat.TAR_GZ);
    } else if (starts(head, 0xfd, '7', 'z', 'X', 'Z', 0x00)) {
      return Optional.of(ArchiveFormat.TAR_XZ);
    } else if (starts(head, 'B', 'Z', 'h')) {
      return Optional.of(ArchiveFormat.TAR_BZ2);
    } else if (starts(head, 0x28, 0xb5, 0x2f, 0xfd)) {
      return Optional.of(ArchiveFormat.TAR_ZST);
    } else if (starts(head, 'P', 'K', 3, 4) || starts(head, 'P', 'K', 5, 6)) {
      return Optional.of(ArchiveFormat.ZIP);
    } else if (head.length >= 262 && head[257] == 'u' && head[258] == 's' && head[259] == 't'
        && head[260] == 'a' && head[261] == 'r') {
      return Optional.of(ArchiveFormat.TAR);
    }
    return Optional.empty();
  }

  private static boolean starts(byte[] head, int... magic) {
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
}
