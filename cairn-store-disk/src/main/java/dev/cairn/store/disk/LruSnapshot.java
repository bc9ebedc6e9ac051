package dev.cairn.store.disk;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/**
 * The order of last use, saved when a store closes and replayed when it opens, so that eviction
 * after a restart still drops what was least recently used. File format: a magic number, then per
 * blob 32 hash bytes and an 8-byte size, oldest first. A missing, stale or damaged snapshot only
 * costs ordering accuracy: blobs it does not name count as oldest.
 */
final class LruSnapshot {
  private static final int MAGIC = 0x4341_4c31; // "CAL1"

  private LruSnapshot() {}

  static void save(BlobIndex index, Path file) throws IOException {
    Path temp = file.resolveSibling(file.getFileName() + ".tmp");
    try (DataOutputStream out = new DataOutputStream(
        new BufferedOutputStream(Files.newOutputStream(temp), 1 << 16))) {
      out.writeInt(MAGIC);
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
      return (int) Math.min(Integer.MAX_VALUE / 2, Math.max(0, (Files.size(file) - 4) / 40));
    } catch (IOException e) {
      return 0;
    }
  }

  /** Touches, oldest first, each blob the snapshot names that the index holds. */
  static void replay(Path file, BlobIndex index) throws IOException {
    try (DataInputStream in = new DataInputStream(
        new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      if (in.readInt() != MAGIC) {
        return;
      }
      while (true) {
        try {
          long h0 = in.readLong();
          long h1 = in.readLong();
          long h2 = in.readLong();
          long h3 = in.readLong();
          long size = in.readLong();
          if (size >= 0) {
            index.touch(h0, h1, h2, h3, size);
          }
        } catch (EOFException e) {
          return;
        }
      }
    } catch (NoSuchFileException | EOFException e) {
      // no snapshot, or an empty one: scan order stands
    }
  }
}
