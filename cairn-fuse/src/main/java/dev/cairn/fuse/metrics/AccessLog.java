package dev.cairn.fuse.metrics;

import dev.cairn.core.tree.Name;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStream;
import java.io.OutputStreamWriter;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The paths a mount's users opened, read-linked or listed ({@code --track-access FILE}): the
 * inputs a build step really used. Recording is a concurrent set insert, cheap enough for every
 * FUSE request; {@link #writeTo} writes the sorted, de-duplicated list.
 *
 * <p>File format: UTF-8, one path per line, relative to the mount's root ({@code ""} for the root
 * itself is written as {@code .}), sorted in UTF-8 byte order (the order of Cairn's trees). Names
 * may contain any character but {@code /} and NUL, so a backslash is written {@code \\} and a
 * newline {@code \n}; no other character is escaped. Thread-safe.
 */
public final class AccessLog {
  private final Set<String> paths = ConcurrentHashMap.newKeySet();

  /** Notes that {@code path} (relative to the mount's root, {@code a/b}) was accessed. */
  public void record(String path) {
    paths.add(Objects.requireNonNull(path, "path"));
  }

  /** How many distinct paths were recorded. */
  public int size() {
    return paths.size();
  }

  /** The recorded paths in UTF-8 byte order. */
  public List<String> sorted() {
    List<String> list = new ArrayList<>(paths);
    list.sort(Name.UTF8_ORDER);
    return list;
  }

  /**
   * Writes the list to {@code file} atomically: to a temporary file beside it, flushed to disk,
   * then renamed over {@code file}, so a reader sees the old list or the new one, never half.
   */
  public void writeTo(Path file) throws IOException {
    Path abs = file.toAbsolutePath();
    Path dir = abs.getParent();
    Path temp = Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp");
    boolean moved = false;
    try {
      try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.WRITE);
          OutputStream out = Channels.newOutputStream(ch);
          BufferedWriter w = new BufferedWriter(new OutputStreamWriter(out, StandardCharsets.UTF_8))) {
        for (String p : sorted()) {
          w.write(p.isEmpty() ? "." : escape(p));
          w.write('\n');
        }
        w.flush();
        ch.force(true);
      }
      try {
        Files.move(temp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("cannot replace " + abs + " atomically", e);
      }
      moved = true;
    } finally {
      if (!moved) {
        Files.deleteIfExists(temp);
      }
    }
  }

  private static String escape(String path) {
    if (path.indexOf('\\') < 0 && path.indexOf('\n') < 0) {
      return path;
    }
    return path.replace("\\", "\\\\").replace("\n", "\\n");
  }
}
