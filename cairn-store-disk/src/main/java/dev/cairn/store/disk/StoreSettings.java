package dev.cairn.store.disk;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.OptionalLong;
import java.util.Properties;

/**
 * Settings a store remembers in {@code settings.properties}, so that every process opening it
 * (a server, a CLI call) agrees on its limit without repeating it.
 */
record StoreSettings(OptionalLong maxSizeBytes) {
  static final String FILE = "settings.properties";
  private static final String MAX_SIZE = "max-size-bytes";

  static StoreSettings load(Path root) throws IOException {
    Properties p = new Properties();
    try (InputStream in = Files.newInputStream(root.resolve(FILE))) {
      p.load(in);
    } catch (NoSuchFileException e) {
      return new StoreSettings(OptionalLong.empty());
    }
    String max = p.getProperty(MAX_SIZE);
    if (max == null) {
      return new StoreSettings(OptionalLong.empty());
    }
    try {
      long value = Long.parseLong(max.trim());
      if (value <= 0) {
        throw new NumberFormatException("not positive");
      }
      return new StoreSettings(OptionalLong.of(value));
    } catch (NumberFormatException e) {
      throw new IOException(root.resolve(FILE) + ": invalid " + MAX_SIZE + " '" + max + "'");
    }
  }

  StoreSettings withMaxSizeBytes(long bytes) {
    return new StoreSettings(OptionalLong.of(bytes));
  }

  /** Writes the settings atomically (temp file, then rename). */
  void save(Path root) throws IOException {
    Properties p = new Properties();
    maxSizeBytes.ifPresent(v -> p.setProperty(MAX_SIZE, Long.toString(v)));
    Path temp = Files.createTempFile(root, "settings", ".tmp");
    try {
      try (OutputStream out = Files.newOutputStream(temp)) {
        p.store(out, "Cairn store settings");
      }
      Files.move(temp, root.resolve(FILE), StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }
}
