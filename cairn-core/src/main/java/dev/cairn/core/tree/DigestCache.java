package dev.cairn.core.tree;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.LinkOption;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.zip.CRC32C;
import java.util.zip.CheckedOutputStream;

/**
 * The digests of one tree's files as of their last import, keyed by {@link FileStamp}, so that
 * importing the tree again reads only what changed (as git's index and Bazel's digest cache do).
 *
 * <p>A digest is taken from the cache only for the same inode on the same device with the same
 * size, mtime and ctime. It is recorded only when the file's ctime was at least {@link
 * #SETTLE_MILLIS} old when it was stamped before hashing and the stamp is unchanged after: a file
 * written within the file system's timestamp granularity of the stamp (the "racy" case) is hashed
 * again next time instead of trusted.
 *
 * <p>One file per imported root (by absolute path and digest function) in the cache directory,
 * holding the entries of that root's latest import; at most {@link #MAX_TREES} files are kept,
 * the least recently used removed. The file ends with a CRC-32C: a damaged or foreign file is
 * ignored (everything is hashed) and replaced. Not thread-safe to save; lookups and records may
 * come from many threads.
 */
public final class DigestCache {

  /** How old a ctime must be, when stamped, for the digest to be remembered. */
  static final long SETTLE_MILLIS = 2_000;
  static final int MAX_TREES = 64;
  private static final byte[] MAGIC = "CAIRNDC1".getBytes(StandardCharsets.US_ASCII);
  private static final String SUFFIX = ".digests";
  /** A bigger file is not a cache this code wrote for any plausible tree; it is ignored. */
  private static final long MAX_FILE_BYTES = 1L << 30;

  private record Key(long device, long inode) {}

  private record Entry(FileStamp stamp, Digest digest) {}

  /**
   * File systems whose ctime is the kernel's own record of the last change. FUSE (Cairn's mounts
   * among them: ctime is mtime there, which a client may set), network file systems (cached
   * attributes, other clocks) and anything unknown are hashed every time.
   */
  private static final Set<String> LOCAL_TYPES = Set.of(
      "ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", "jfs", "bcachefs", "reiserfs");

  private static final DigestCache NONE = new DigestCache(
      null, null, CompletableFuture.completedFuture(Map.of()), System::currentTimeMillis, false);

  private final Path file;
  private final LongSupplier clock;
  private final DigestFunction function;
  /** Read on a thread of its own while the caller opens its store and walks the tree. */
  private final CompletableFuture<Map<Key, Entry>> loading;
  private final Map<Key, Entry> seen = new ConcurrentHashMap<>();
  private final AtomicLong recorded = new AtomicLong();
  private final boolean lookups;
  /** Per device: whether its file system keeps an honest ctime (decided at its first file). */
  private final Map<Long, Boolean> trustedDevices = new ConcurrentHashMap<>();

  private DigestCache(
      Path file, DigestFunction function, CompletableFuture<Map<Key, Entry>> loading,
      LongSupplier clock, boolean lookups) {
    this.file = file;
    this.lookups = lookups;
    this.clock = clock;
    this.function = function;
    this.loading = loading;
  }

  /** A cache that knows nothing and remembers nothing: every file is hashed. */
  public static DigestCache none() {
    return NONE;
  }

  /**
   * The cache for importing {@code root} with {@code function}, kept in {@code directory}
   * (created on {@link #save}). A missing, damaged or foreign cache file gives an empty cache.
   */
  public static DigestCache open(Path directory, Path root, DigestFunction function) {
    return open(directory, root, function, System::currentTimeMillis, true);
  }

  /**
   * As {@link #open(Path, Path, DigestFunction)}, but nothing is taken from the cache: every file
   * is hashed, and what is hashed replaces what the cache said ({@code cairn import --rehash}).
   */
  public static DigestCache refresh(Path directory, Path root, DigestFunction function) {
    return open(directory, root, function, System::currentTimeMillis, false);
  }

  /** As {@link #open(Path, Path, DigestFunction)}, with the wall clock the settle rule reads. */
  static DigestCache open(Path directory, Path root, DigestFunction function, LongSupplier clock) {
    return open(directory, root, function, clock, true);
  }

  static DigestCache open(
      Path directory, Path root, DigestFunction function, LongSupplier clock, boolean lookups) {
    Objects.requireNonNull(function, "function");
    Path file = directory.resolve(fileName(root, function));
    CompletableFuture<Map<Key, Entry>> loading = new CompletableFuture<>();
    Thread.ofPlatform().name("cairn-digest-cache").daemon(true).start(() -> {
      try {
        loading.complete(load(file, function));
      } catch (Throwable e) { // even an Error: lookups must never wait for ever
        loading.complete(Map.of()); // unreadable: every file is hashed; save() replaces it
      }
    });
    return new DigestCache(file, function, loading, clock, lookups);
  }

  private Map<Key, Entry> loaded() {
    return loading.join();
  }

  /** The wall clock in milliseconds, as the settle rule compares it with ctimes. */
  long now() {
    return clock.getAsLong();
  }

  /** Whether this cache remembers anything ({@code false} for {@link #none()}). */
  public boolean enabled() {
    return file != null;
  }

  /** The digest of the file with exactly this stamp when it was last imported, or null. */
  Digest lookup(FileStamp stamp, Path path) {
    if (stamp == null || !lookups || !trusted(stamp, path)) {
      return null;
    }
    Key key = new Key(stamp.device(), stamp.inode());
    Entry e = loaded().get(key);
    if (e == null || !e.stamp.equals(stamp)) {
      return null;
    }
    seen.put(key, e);
    return e.digest;
  }

  /**
   * Remembers {@code digest} for a file stamped {@code before} at {@code stampedAtMillis} (wall
   * clock) and hashed after that, if its stamp is still {@code after} and its ctime had settled.
   */
  void record(FileStamp before, long stampedAtMillis, FileStamp after, Digest digest, Path path) {
    if (file == null || before == null || !before.equals(after) || !trusted(before, path)
        || before.size() != digest.sizeBytes()
        || before.ctimeNanos() > (stampedAtMillis - SETTLE_MILLIS) * 1_000_000L) {
      return;
    }
    seen.put(new Key(before.device(), before.inode()), new Entry(before, digest));
    recorded.incrementAndGet();
  }

  /** Whether a digest of the file so stamped (at the walk) could be remembered at all. */
  boolean remembers(FileStamp stamp, Path path) {
    return file != null && stamp != null && trusted(stamp, path);
  }

  private boolean trusted(FileStamp stamp, Path path) {
    return trustedDevices.computeIfAbsent(stamp.device(), d -> {
      try {
        return LOCAL_TYPES.contains(Files.getFileStore(path).type());
      } catch (IOException | RuntimeException e) {
        return false;
      }
    });
  }

  /**
   * Writes what this import saw (entries of files no longer there are dropped), atomically, and
   * removes the least recently used cache files beyond {@link #MAX_TREES}. Nothing is written
   * when the cache already says exactly that.
   */
  public void save() throws IOException {
    if (file == null) {
      return;
    }
    if (recorded.get() == 0 && seen.size() == loaded().size()) {
      touch(file); // still in use: not the least recently used
      return;
    }
    Path dir = file.getParent();
    if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
      Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
          PosixFilePermissions.fromString("rwx------")));
    }
    if (!privateTo(dir, FileStamp.S_IFDIR)) {
      throw new IOException(dir + " is not a folder of this user's that only it may write");
    }
    // Created exclusively under a random name (mode 0600): nothing planted there is followed.
    Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
    try {
      write(tmp);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    prune(file.getParent());
  }

  private void write(Path tmp) throws IOException {
    CRC32C crc = new CRC32C();
    try (OutputStream raw = Files.newOutputStream(
            tmp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING, LinkOption.NOFOLLOW_LINKS);
        CheckedOutputStream checked = new CheckedOutputStream(new BufferedOutputStream(raw, 1 << 16), crc);
        DataOutputStream out = new DataOutputStream(checked)) {
      out.write(MAGIC);
      out.writeUTF(function.cliName());
      out.writeInt(seen.size());
      for (Entry e : seen.values()) {
        FileStamp s = e.stamp;
        out.writeLong(s.device());
        out.writeLong(s.inode());
        out.writeLong(s.size());
        out.writeLong(s.mtimeNanos());
        out.writeLong(s.ctimeNanos());
        out.write(e.digest.hashBytes());
      }
      out.flush();
      new DataOutputStream(raw).writeInt((int) crc.getValue()); // not part of its own checksum
    }
  }

  private static Map<Key, Entry> load(Path file, DigestFunction function) throws IOException {
    byte[] bytes;
    try (SeekableByteChannel ch = Files.newByteChannel(file, StandardOpenOption.READ,
        LinkOption.NOFOLLOW_LINKS)) {
      // Only a regular file of this user's, in a folder of this user's, that nobody else may
      // write: another user's could vouch for any content.
      if (!privateTo(file, FileStamp.S_IFREG) || !privateTo(file.getParent(), FileStamp.S_IFDIR)) {
        return Map.of();
      }
      long size = ch.size();
      if (size > MAX_FILE_BYTES) {
        return Map.of();
      }
      ByteBuffer all = ByteBuffer.allocate((int) size);
      while (all.hasRemaining() && ch.read(all) >= 0) {
        // until full or the end (a file that shrank meanwhile fails its checksum)
      }
      bytes = Arrays.copyOf(all.array(), all.position());
    } catch (NoSuchFileException e) {
      return Map.of();
    }
    if (bytes.length < MAGIC.length + 4) {
      return Map.of();
    }
    CRC32C crc = new CRC32C();
    crc.update(bytes, 0, bytes.length - 4);
    ByteBuffer in = ByteBuffer.wrap(bytes);
    if ((int) crc.getValue() != in.getInt(bytes.length - 4)) {
      return Map.of();
    }
    in.limit(bytes.length - 4);
    try {
      byte[] magic = new byte[MAGIC.length];
      in.get(magic);
      int nameLength = in.getShort() & 0xffff;
      byte[] name = new byte[nameLength];
      in.get(name);
      if (!Arrays.equals(magic, MAGIC)
          || !function.cliName().equals(new String(name, StandardCharsets.UTF_8))) {
        return Map.of();
      }
      int count = in.getInt();
      if (count < 0 || (long) count * (40 + 32) != in.remaining()) {
        return Map.of();
      }
      Map<Key, Entry> entries = HashMap.newHashMap(count);
      byte[] hash = new byte[32];
      for (int i = 0; i < count; i++) {
        FileStamp s = new FileStamp(in.getLong(), in.getLong(), in.getLong(), in.getLong(), in.getLong());
        in.get(hash);
        entries.put(new Key(s.device(), s.inode()), new Entry(s, Digest.of(hash, s.size())));
      }
      return entries;
    } catch (BufferUnderflowException | IllegalArgumentException e) {
      return Map.of(); // a valid checksum over invalid content: not a file this code wrote
    }
  }

  /** Whether {@code path} is of that type, this user's, and not writable by group or others. */
  private static boolean privateTo(Path path, int type) throws IOException {
    Map<String, Object> attrs = Files.readAttributes(path, "unix:mode,uid", LinkOption.NOFOLLOW_LINKS);
    return FileStamp.type(attrs) == type && ((Integer) attrs.get("mode") & 0022) == 0
        && attrs.get("uid").equals(ownUid());
  }

  /** This process's user id: the owner of /proc/self. */
  private static Object ownUid() throws IOException {
    return Files.getAttribute(Path.of("/proc/self"), "unix:uid");
  }

  private static void touch(Path file) {
    try {
      Files.setLastModifiedTime(file, FileTime.fromMillis(System.currentTimeMillis()));
    } catch (IOException e) {
      // only the eviction order suffers
    }
  }

  private static void prune(Path directory) throws IOException {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> s = Files.newDirectoryStream(directory, "*" + SUFFIX)) {
      s.forEach(files::add);
    }
    if (files.size() <= MAX_TREES) {
      return;
    }
    Map<Path, Long> times = new HashMap<>();
    for (Path p : files) {
      try {
        times.put(p, Files.getLastModifiedTime(p).toMillis());
      } catch (NoSuchFileException e) {
        times.put(p, Long.MIN_VALUE); // pruned by a concurrent import
      }
    }
    files.sort(Comparator.comparing(times::get));
    for (Path p : files.subList(0, files.size() - MAX_TREES)) {
      Files.deleteIfExists(p);
    }
  }

  /** One file per root and function, named by a hash of both (a path may be long or odd). */
  static String fileName(Path root, DigestFunction function) {
    String key = function.cliName() + "\0" + root.toAbsolutePath().normalize();
    byte[] hash = DigestFunction.SHA256.digestOf(key.getBytes(StandardCharsets.UTF_8)).hashBytes();
    return HexFormat.of().formatHex(hash, 0, 16) + SUFFIX;
  }
}
