package dev.cairn.store.disk;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * The index saved when a store closes: the order of last use, replayed when it opens so that
 * eviction after a restart still drops what was least recently used, and, per shard directory,
 * the modification time at which the saved entries were all of that shard's files.
 *
 * <p>File format ({@code CAL2}): a magic number, 256 shard times ({@link ShardClock#UNKNOWN} for a
 * shard the index was not known complete for), then per blob 32 hash bytes and an 8-byte size,
 * oldest first. The older {@code CAL1} has no shard times. A missing, stale or damaged snapshot
 * only costs time and ordering accuracy: its shard times are then not trusted, every shard is
 * listed, and blobs it does not name count as oldest.
 *
 * <p>Why the shard times can be trusted: adding or removing a file changes its directory's
 * modification time, so a shard whose time is still the saved one (and was settled when saved,
 * see {@link ShardClock}) holds exactly the files the snapshot names, and need not be listed.
 */
final class LruSnapshot {
  private static final int MAGIC_V1 = 0x4341_4c31; // "CAL1": entries only
  private static final int MAGIC = 0x4341_4c32; // "CAL2": shard times, then entries
  private static final int ENTRY = 40;
  private static final int HEADER = 4 + 256 * 8;

  private LruSnapshot() {}

  static void save(BlobIndex index, long[] shardTimes, Path file) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out = new DataOutputStream(
        new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16))) {
      out.writeInt(MAGIC);
      for (int s = 0; s < 256; s++) {
        out.writeLong(shardTimes[s]);
      }
      index.forEachOldestFirstRaw((h0, h1, h2, h3, size) -> {
        out.writeLong(h0); // the 32 hash bytes, big-endian words: the hash's hex order
        out.writeLong(h1);
        out.writeLong(h2);
        out.writeLong(h3);
        out.writeLong(size);
      });
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** How many blobs the snapshot names (from its length): the index size to expect. */
  static int entries(Path file) {
    try {
      long size = Files.size(file);
      return (int) Math.min(Integer.MAX_VALUE / 2, Math.max(0, (size - HEADER) / ENTRY));
    } catch (IOException e) {
      return 0;
    }
  }

  /**
   * The shard times a whole, current-format snapshot records; all {@link ShardClock#UNKNOWN} if
   * there is none, it is of the old format, or its length shows it damaged.
   */
  static long[] shardTimes(Path file) {
    long[] times = new long[256];
    java.util.Arrays.fill(times, ShardClock.UNKNOWN);
    try (DataInputStream in = new DataInputStream(
        new BufferedInputStream(Files.newInputStream(file), HEADER))) {
      long size = Files.size(file);
      if (size < HEADER || (size - HEADER) % ENTRY != 0 || in.readInt() != MAGIC) {
        return times;
      }
      for (int s = 0; s < 256; s++) {
        times[s] = in.readLong();
      }
    } catch (IOException e) {
      java.util.Arrays.fill(times, ShardClock.UNKNOWN); // none, or unreadable: trust nothing
    }
    return times;
  }

  /**
   * Replays the snapshot, oldest first: a blob of a {@code trusted} shard is added (the shard was
   * not listed; the snapshot is its listing), any other is touched if the index holds it.
   */
  static void replay(Path file, BlobIndex index, boolean[] trusted) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
      ByteBuffer buf = ByteBuffer.allocate(1 << 20); // big-endian, like DataOutputStream wrote
      buf.limit(0); // read mode, nothing read yet
      if (!fill(ch, buf, 4)) {
        return;
      }
      int magic = buf.getInt();
      if (magic == MAGIC) {
        if (!fill(ch, buf, 256 * 8)) {
          return;
        }
        buf.position(buf.position() + 256 * 8);
      } else if (magic != MAGIC_V1) {
        return;
      }
      boolean current = magic == MAGIC;
      while (fill(ch, buf, ENTRY)) {
        while (buf.remaining() >= ENTRY) {
          long h0 = buf.getLong();
          long h1 = buf.getLong();
          long h2 = buf.getLong();
          long h3 = buf.getLong();
          long size = buf.getLong();
          if (size < 0) {
            continue;
          }
          if (current && trusted[(int) (h0 >>> 56)]) {
            index.add(h0, h1, h2, h3, size);
          } else {
            index.touch(h0, h1, h2, h3, size);
          }
        }
      }
    } catch (NoSuchFileException e) {
      // no snapshot: scan order stands
    }
  }

  /**
   * Makes at least {@code need} bytes readable in {@code buf} (read mode), reading more from the
   * channel as needed; false at the end of the file before that many (a torn tail is ignored).
   */
  private static boolean fill(FileChannel ch, ByteBuffer buf, int need) throws IOException {
    if (buf.remaining() >= need) {
      return true;
    }
    buf.compact();
    while (buf.position() < need) {
      if (ch.read(buf) < 0) {
        buf.flip();
        return false;
      }
    }
    buf.flip();
    return true;
  }
}
