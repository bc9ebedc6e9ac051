package dev.cairn.asset;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;

/**
 * The asset index: names ({@link AssetKey}) mapped to CAS content ({@link AssetEntry}), bounded by
 * an entry count with least-recently-used eviction.
 *
 * <p>On disk (the server's and the CLI's store) each entry is one small file {@code
 * <dir>/<ab>/<key-hash>} holding the key and the entry, replaced atomically (temp file, rename),
 * so the index survives restarts and a crash never leaves half an entry; the LRU order is kept in
 * memory and rebuilt at start from the files' modification times, which a hit refreshes. Without
 * a directory (the memory store) entries live on the heap. Entries are only names: whether their
 * content is still in the CAS is checked by {@link AssetResolver}. Thread-safe.
 */
public final class AssetIndex {
  private static final System.Logger LOG = System.getLogger(AssetIndex.class.getName());

  private final Optional<Path> dir;
  private final InstantSource clock;
  private final long maxEntries;
  /** Key hash -> heap entry (memory index) or null (disk index), in access order. */
  private final LinkedHashMap<String, Stored> lru = new LinkedHashMap<>(16, 0.75f, true);

  private record Stored(AssetKey key, AssetEntry entry) {}

  private AssetIndex(Optional<Path> dir, InstantSource clock, long maxEntries) {
    if (maxEntries < 1) {
      throw new IllegalArgumentException("asset index bound must be at least 1 entry, got " + maxEntries);
    }
    this.dir = dir;
    this.clock = clock;
    this.maxEntries = maxEntries;
  }

  /** An index kept in {@code directory} (created if needed), rebuilding its LRU order from it. */
  public static AssetIndex open(Path directory, InstantSource clock, long maxEntries) throws IOException {
    AssetIndex index = new AssetIndex(Optional.of(directory), clock, maxEntries);
    Files.createDirectories(directory);
    index.scan(directory);
    return index;
  }

  /** An index on the heap, gone at exit. */
  public static AssetIndex inMemory(InstantSource clock, long maxEntries) {
    return new AssetIndex(Optional.empty(), clock, maxEntries);
  }

  private void scan(Path directory) throws IOException {
    record Found(String hash, FileTime time) {}
    List<Found> found = new ArrayList<>();
    try (Stream<Path> shards = Files.list(directory)) {
      for (Path shard : (Iterable<Path>) shards::iterator) {
        if (!Files.isDirectory(shard) || shard.getFileName().toString().length() != 2) {
          continue;
        }
        try (Stream<Path> files = Files.list(shard)) {
          for (Path f : (Iterable<Path>) files::iterator) {
            String name = f.getFileName().toString();
            if (name.endsWith(".tmp")) {
              Files.deleteIfExists(f); // left by a crash before its rename
            } else if (name.length() == 64) {
              found.add(new Found(name, Files.getLastModifiedTime(f)));
            }
          }
        }
      }
    }
    found.sort(Comparator.comparing(Found::time));
    synchronized (lru) {
      for (Found f : found) {
        lru.put(f.hash(), null);
      }
    }
    trim();
  }

  /** The number of entries held. */
  public int size() {
    synchronized (lru) {
      return lru.size();
    }
  }

  /** The bound on the number of entries. */
  public long maxEntries() {
    return maxEntries;
  }

  /**
   * The entry for {@code key}, if there is one that has not expired; a hit counts as a use.
   * Expired and damaged entries are removed.
   */
  public Optional<AssetEntry> get(AssetKey key) throws IOException {
    String hash = key.hash();
    Stored stored;
    if (dir.isEmpty()) {
      synchronized (lru) {
        stored = lru.get(hash);
      }
    } else {
      stored = read(hash);
    }
    if (stored == null || !stored.key().equals(key)) {
      return Optional.empty();
    }
    if (stored.entry().expired(clock.instant())) {
      remove(key);
      return Optional.empty();
    }
    synchronized (lru) {
      if (lru.containsKey(hash)) {
        lru.get(hash); // access order
      }
    }
    if (dir.isPresent()) {
      try {
        Files.setLastModifiedTime(path(hash), FileTime.from(clock.instant()));
      } catch (NoSuchFileException e) {
        // removed meanwhile: the answer was still right when read
      }
    }
    return Optional.of(stored.entry());
  }

  /** Records (or replaces) the entry for {@code key}, evicting the least recently used beyond the bound. */
  public void put(AssetKey key, AssetEntry entry) throws IOException {
    String hash = key.hash();
    if (dir.isPresent()) {
      write(hash, key, entry);
      synchronized (lru) {
        lru.put(hash, null);
      }
    } else {
      synchronized (lru) {
        lru.put(hash, new Stored(key, entry));
      }
    }
    trim();
  }

  /** Forgets {@code key}; nothing happens if it is not there. */
  public void remove(AssetKey key) throws IOException {
    String hash = key.hash();
    synchronized (lru) {
      lru.remove(hash);
    }
    if (dir.isPresent()) {
      Files.deleteIfExists(path(hash));
    }
  }

  private void trim() throws IOException {
    List<String> evicted = new ArrayList<>();
    synchronized (lru) {
      Iterator<String> it = lru.keySet().iterator();
      while (lru.size() > maxEntries && it.hasNext()) {
        evicted.add(it.next());
        it.remove();
      }
    }
    if (dir.isPresent()) {
      for (String hash : evicted) {
        Files.deleteIfExists(path(hash));
      }
    }
  }

  private Path path(String hash) {
    return dir.orElseThrow().resolve(hash.substring(0, 2)).resolve(hash);
  }

  private void write(String hash, AssetKey key, AssetEntry entry) throws IOException {
    Properties p = new Properties();
    p.setProperty("kind", key.kind().name());
    p.setProperty("instance", key.instance());
    p.setProperty("function", key.function().cliName());
    p.setProperty("uri", key.uri());
    int i = 0;
    for (var q : key.qualifiers().entrySet()) {
      p.setProperty("qualifier." + i + ".name", q.getKey());
      p.setProperty("qualifier." + i + ".value", q.getValue());
      i++;
    }
    p.setProperty("digest", entry.digest().toString());
    p.setProperty("fetched", Long.toString(entry.fetchedAt().toEpochMilli()));
    entry.expiresAt().ifPresent(e -> p.setProperty("expires", Long.toString(e.toEpochMilli())));
    StringWriter text = new StringWriter();
    p.store(text, null);
    Path target = path(hash);
    Files.createDirectories(target.getParent());
    Path temp = target.resolveSibling(
        hash + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    try {
      Files.writeString(temp, text.toString(), StandardCharsets.ISO_8859_1);
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** The stored key and entry, or null if there is none; a damaged file is deleted. */
  private Stored read(String hash) throws IOException {
    Path file = path(hash);
    String text;
    try {
      text = Files.readString(file, StandardCharsets.ISO_8859_1);
    } catch (NoSuchFileException e) {
      synchronized (lru) {
        lru.remove(hash);
      }
      return null;
    }
    try {
      Properties p = new Properties();
      p.load(new StringReader(text));
      Map<String, String> qualifiers = new TreeMap<>();
      for (int i = 0; p.containsKey("qualifier." + i + ".name"); i++) {
        qualifiers.put(p.getProperty("qualifier." + i + ".name"), required(p, "qualifier." + i + ".value"));
      }
      AssetKey key = AssetKey.of(AssetKey.Kind.valueOf(required(p, "kind")), required(p, "instance"),
          DigestFunction.parse(required(p, "function")), required(p, "uri"), qualifiers);
      String expires = p.getProperty("expires");
      AssetEntry entry = new AssetEntry(Digest.parse(required(p, "digest")),
          Instant.ofEpochMilli(Long.parseLong(required(p, "fetched"))),
          expires == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(Long.parseLong(expires))));
      return new Stored(key, entry);
    } catch (IllegalArgumentException e) {
      LOG.log(System.Logger.Level.WARNING, "asset index entry {0} is damaged ({1}); removing it", file, e.getMessage());
      Files.deleteIfExists(file);
      synchronized (lru) {
        lru.remove(hash);
      }
      return null;
    }
  }

  private static String required(Properties p, String name) {
    String v = p.getProperty(name);
    if (v == null) {
      throw new IllegalArgumentException("missing '" + name + "'");
    }
    return v;
  }

}
