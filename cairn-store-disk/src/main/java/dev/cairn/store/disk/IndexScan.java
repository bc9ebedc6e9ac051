package dev.cairn.store.disk;

import dev.cairn.core.digest.Digest;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Rebuilds a store's {@link BlobIndex} at start-up from directory listings only: each blob file
 * is named {@code <hash>-<size>}, so no file needs a stat. Files with other names (not ours) are
 * left alone and logged. Blobs found this way have no known last use and enter as oldest.
 *
 * <p>Why it is fast enough for a million blobs: the shard directories are listed and their names
 * parsed on all cores; a name becomes its raw key (four longs and a size) directly, with no path,
 * {@link Digest} or second parse per blob; and the index is sized up front from the previous count.
 */
final class IndexScan {
  private static final Logger LOG = System.getLogger(IndexScan.class.getName());
  static final int KEY = 5; // longs per entry: 4 hash words, size

  private IndexScan() {}

  /** What one shard directory holds: raw keys, and the names that are not blob files. */
  record Shard(long[] keys, int count, List<String> strangers) {
    static final Shard EMPTY = new Shard(new long[0], 0, List.of());
  }

  static BlobIndex scan(Path casDir, int expectedEntries) throws IOException {
    return scan(casDir, expectedEntries, null, new boolean[256]);
  }

  /**
   * Lists every shard but those {@code skip} names into a new index. With a {@code clock}, each
   * shard's time is read before and after its listing, so that shards nobody changed meanwhile
   * start out verified.
   */
  static BlobIndex scan(Path casDir, int expectedEntries, ShardClock clock, boolean[] skip)
      throws IOException {
    String[] names = casDir.toFile().list();
    if (names == null) {
      throw new IOException("cannot list the store directory " + casDir);
    }
    Arrays.sort(names);
    List<String> shardNames = new ArrayList<>();
    for (String name : names) {
      int shard = ShardClock.parse(name);
      if (shard >= 0 && skip[shard]) {
        continue; // its blobs come from the snapshot
      }
      if (name.length() == 2 && new File(casDir.toFile(), name).isDirectory()) {
        shardNames.add(name);
      } else {
        LOG.log(Level.WARNING, "ignoring unexpected entry in the store: {0}", casDir.resolve(name));
      }
    }
    List<Shard> shards;
    try {
      shards = shardNames.parallelStream().map(shard -> scanShard(casDir, shard, clock)).toList();
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    BlobIndex index = new BlobIndex(Math.max(1024, expectedEntries));
    for (int s = 0; s < shards.size(); s++) {
      Shard shard = shards.get(s);
      long[] k = shard.keys();
      for (int i = 0, b = 0; i < shard.count(); i++, b += KEY) {
        index.add(k[b], k[b + 1], k[b + 2], k[b + 3], k[b + 4]);
      }
      for (String stranger : shard.strangers()) {
        LOG.log(Level.WARNING, "ignoring unexpected file in the store: {0}",
            casDir.resolve(shardNames.get(s)).resolve(stranger));
      }
    }
    return index;
  }

  private static Shard scanShard(Path casDir, String shard, ShardClock clock) {
    int s = ShardClock.parse(shard);
    if (clock == null || s < 0) {
      return listShard(casDir, shard); // not a shard name blobs are looked up in
    }
    try {
      ShardClock.Reading before = clock.read(s);
      Shard listed = listShard(casDir, shard);
      clock.verified(before, clock.read(s), true);
      return listed;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The blob files of one shard directory ({@link Shard#EMPTY} if it does not exist). */
  static Shard listShard(Path casDir, String shard) {
    File dir = new File(casDir.toFile(), shard);
    String[] names = dir.list();
    if (names == null) {
      if (!dir.exists()) {
        return Shard.EMPTY;
      }
      throw new UncheckedIOException(new IOException("cannot list the store directory " + dir));
    }
    long[] keys = new long[names.length * KEY];
    long[] words = new long[4];
    int count = 0;
    List<String> strangers = List.of();
    for (String name : names) {
      long size = blobName(name, shard, words);
      if (size < 0) {
        if (strangers.isEmpty()) {
          strangers = new ArrayList<>();
        }
        strangers.add(name);
        continue;
      }
      int b = count++ * KEY;
      keys[b] = words[0];
      keys[b + 1] = words[1];
      keys[b + 2] = words[2];
      keys[b + 3] = words[3];
      keys[b + 4] = size;
    }
    return new Shard(keys, count, strangers);
  }

  /**
   * If {@code name} is a blob file name {@code <hash>-<size>} in the shard named by the hash's
   * first two digits, puts the hash's words in {@code words} and returns the size; else -1. The
   * size must be written as the store writes it: decimal digits, no sign, no leading zero.
   */
  static long blobName(String name, String shard, long[] words) {
    int len = name.length();
    int hex = Digest.HASH_HEX_LENGTH;
    if (len < hex + 2 || len > hex + 20 || name.charAt(hex) != '-'
        || !name.startsWith(shard) || !BlobIndex.parseHash(name, words)) {
      return -1;
    }
    if (name.charAt(hex + 1) == '0' && len > hex + 2) {
      return -1;
    }
    long size = 0;
    for (int i = hex + 1; i < len; i++) {
      char c = name.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      size = size * 10 + (c - '0');
      if (size < 0) {
        return -1; // overflow
      }
    }
    return size;
  }

  /** Parses {@code <hash>-<size>}, or returns null if the name is not a blob file name. */
  static Digest parse(String name) {
    long[] words = new long[4];
    long size = blobName(name, name.length() >= 2 ? name.substring(0, 2) : name, words);
    return size < 0 ? null : new Digest(name.substring(0, Digest.HASH_HEX_LENGTH), size);
  }
}
