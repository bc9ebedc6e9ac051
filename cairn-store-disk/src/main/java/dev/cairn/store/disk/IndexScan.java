package dev.cairn.store.disk;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Rebuilds a store's {@link BlobIndex} at start-up from directory listings only: each blob file
 * is named {@code <hash>-<size>}, so no file needs a stat. Files with other names (not ours) are
 * left alone and logged. Blobs found this way have no known last use and enter as oldest.
 */
final class IndexScan {
  private static final Logger LOG = System.getLogger(IndexScan.class.getName());

  private IndexScan() {}

  static BlobIndex scan(Path casDir) throws IOException {
    BlobIndex index = new BlobIndex(1024);
    try (DirectoryStream<Path> shards = Files.newDirectoryStream(casDir)) {
      for (Path shard : shards) {
        String shardName = shard.getFileName().toString();
        if (shardName.length() != 2 || !Files.isDirectory(shard)) {
          LOG.log(Level.WARNING, "ignoring unexpected entry in the store: {0}", shard);
          continue;
        }
        try (DirectoryStream<Path> blobs = Files.newDirectoryStream(shard)) {
          for (Path blob : blobs) {
            Digest digest = parse(blob.getFileName().toString());
            if (digest == null || !digest.hash().startsWith(shardName)) {
              LOG.log(Level.WARNING, "ignoring unexpected file in the store: {0}", blob);
              continue;
            }
            index.add(digest);
          }
        }
      }
    }
    return index;
  }

  /** Parses {@code <hash>-<size>}, or returns null if the name is not a blob file name. */
  static Digest parse(String name) {
    int dash = name.indexOf('-');
    if (dash != Digest.HASH_HEX_LENGTH) {
      return null;
    }
    try {
      return new Digest(name.substring(0, dash), Long.parseLong(name.substring(dash + 1)));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
