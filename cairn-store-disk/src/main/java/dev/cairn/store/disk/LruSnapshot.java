package dev.cairn.store.disk;

import dev.cairn.core.digest.Digest;
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
import java.util.HexFormat;

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
      IOException[] failure = {null};
      index.forEachOldestFirst(d -> {
        try {
          out.write(d.hashBytes());
          out.writeLong(d.sizeBytes());
        } catch (IOException e) {
          failure[0] = e;
        }
      });
      if (failure[0] != null) {
        throw failure[0];
      }
    }
    Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /** Touches, oldest first, each blob the snapshot names that the index holds. */
  static void replay(Path file, BlobIndex index) throws IOException {
    try (DataInputStream in = new DataInputStream(
        new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      if (in.readInt() != MAGIC) {
        return;
      }
      byte[] hash = new byte[32];
      HexFormat hex = HexFormat.of();
      while (true) {
        try {
          in.readFully(hash);
          long size = in.readLong();
          if (size >= 0) {
            index.touch(new Digest(hex.formatHex(hash), size));
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
