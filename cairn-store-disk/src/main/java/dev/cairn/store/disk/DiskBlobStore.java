package dev.cairn.store.disk;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.blob.RoomAhead;
import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.blob.VerifyingInputStream;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntFunction;

/**
 * The embedded default store: one read-only file per blob under {@code cas/<function>/<ab>/},
 * named {@code <hash>-<size>}, with a bounded size and least-recently-used eviction.
 *
 * <p>Why it is safe: a blob is written to {@code tmp/}, hashed as it is written, and renamed into
 * place only when every byte matched its digest, so a reader never sees a partial or wrong blob,
 * and a killed writer leaves only a temp file that the next start removes. Readers hold an open
 * file descriptor, so eviction (an unlink) never cuts a read short. A blob whose file length does
 * not match its digest (truncated by a power cut without {@code fsync}) is dropped on open rather
 * than served.
 *
 * <p>Why it is fast: the size is part of the file name, so start-up rebuilds the index from
 * directory listings alone, without a stat per blob; {@link #findMissing} touches only memory.
 *
 * <p>Several processes may share a store directory (files are immutable and renames atomic);
 * each keeps its own index, adopting blobs another process wrote when it meets them. Thread-safe.
 */
public final class DiskBlobStore implements BlobStore {
  private static final Logger LOG = System.getLogger(DiskBlobStore.class.getName());
  private static final int COPY_CHUNK = 1 << 20;
  private static final long PID = ProcessHandle.current().pid();
  /**
   * A shard is listed again rather than looked up digest by digest when the digests to check in it
   * number at least 1/16 of its files: a name listed costs about a tenth of a path lookup.
   */
  private static final int LIST_RATIO = 16;
  private static final int KEY = IndexScan.KEY;

  /** Usage figures of a store. */
  public record Stats(long bytesUsed, long blobCount, long maxSizeBytes, long evictions) {}

  /**
   * Told of each blob the store evicts to stay within its limit (or on {@link #gc}), so that a
   * FUSE mount can tell a cache that thrashes. Called with the store's lock held, right after the
   * blob's file is deleted: it must be quick and must not call the store. An exception it throws
   * is logged and does not stop the eviction.
   */
  @FunctionalInterface
  public interface EvictionListener {
    void evicted(Digest digest);

    /**
     * Told of a blob removed for another reason than space: its file had the wrong length and
     * was deleted, or was found missing (another process removed it). Same contract as {@link
     * #evicted}. A listener that holds a blob's file open (the HTTP cache) must let go of it
     * here too; one that counts evictions ignores it (the default).
     */
    default void dropped(Digest digest) {}

    /** A listener told of evictions and drops alike, for a holder of open blob files. */
    static EvictionListener ofRemovals(java.util.function.Consumer<Digest> removed) {
      Objects.requireNonNull(removed, "removed");
      return new EvictionListener() {
        @Override
        public void evicted(Digest digest) {
          removed.accept(digest);
        }

        @Override
        public void dropped(Digest digest) {
          removed.accept(digest);
        }
      };
    }
  }

  private final Path root;
  private final Path casDir;
  private final Path tmpDir;
  private final DigestFunction function;
  private final Digest empty;
  private final long[] emptyKey = new long[4];
  private final boolean fsync;
  private final ReentrantLock lock = new ReentrantLock();
  private final BlobIndex index; // guarded by lock
  private final ShardClock shards;
  private final long[] savedShardTimes; // what the snapshot read at open vouched for
  private final long changesAtOpen; // index.changes() once the LRU snapshot was replayed
  private volatile long maxSizeBytes;
  private boolean closed; // guarded by lock
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong tempCounter = new AtomicLong();
  private final List<EvictionListener> evictionListeners = new CopyOnWriteArrayList<>();

  private DiskBlobStore(DiskStoreConfig config, long maxSizeBytes, BlobIndex index, ShardClock shards,
      long[] savedShardTimes) {
    this.root = config.root();
    this.function = config.digestFunction();
    this.casDir = root.resolve("cas").resolve(function.cliName());
    this.tmpDir = root.resolve("tmp");
    this.empty = function.emptyDigest();
    BlobIndex.parseHash(empty.hash(), emptyKey);
    this.fsync = config.fsync();
    this.maxSizeBytes = maxSizeBytes;
    this.index = index;
    this.shards = shards;
    this.savedShardTimes = savedShardTimes;
    this.changesAtOpen = index.changes();
  }

  /**
   * Opens (creating if needed) the store at {@code config.root()}: removes temp files left by
   * dead processes, rebuilds the index from the directory listing, and evicts down to the limit.
   */
  public static DiskBlobStore open(DiskStoreConfig config) throws IOException {
    Path root = config.root();
    Files.createDirectories(root);
    StoreSettings settings = StoreSettings.load(root);
    long max;
    if (config.maxSizeBytes().isPresent()) {
      max = config.maxSizeBytes().getAsLong();
      if (settings.maxSizeBytes().orElse(-1) != max) {
        settings.withMaxSizeBytes(max).save(root);
      }
    } else {
      max = settings.maxSizeBytes().orElse(DiskStoreConfig.DEFAULT_MAX_SIZE_BYTES);
    }
    Path cas = root.resolve("cas").resolve(config.digestFunction().cliName());
    Files.createDirectories(cas);
    Files.createDirectories(root.resolve("tmp"));
    cleanTemp(root.resolve("tmp"));
    Path lru = lruFile(root, config.digestFunction());
    ShardClock shards = ShardClock.systemClock(cas);
    // Shards whose time is still the one the snapshot was saved with are taken from the snapshot;
    // only the others are listed.
    long[] saved = LruSnapshot.shardTimes(lru);
    boolean[] trusted = new boolean[256];
    for (int s = 0; s < 256; s++) {
      trusted[s] = shards.trustSaved(s, saved[s]);
    }
    BlobIndex index = IndexScan.scan(cas, LruSnapshot.entries(lru), shards, trusted);
    LruSnapshot.replay(lru, index, trusted);
    DiskBlobStore store = new DiskBlobStore(config, max, index, shards, saved);
    store.evictTo(max);
    return store;
  }

  private static Path lruFile(Path root, DigestFunction function) {
    return root.resolve("cas").resolve(function.cliName() + ".lru");
  }

  /**
   * Saves the order of last use so the next open evicts in the right order. Further use of the
   * store after close is not allowed.
   */
  @Override
  public void close() throws IOException {
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      long[] times = shards.exactTimes();
      // Saved again only if it would say something new: another order, or other shards vouched for.
      if (index.changes() != changesAtOpen || !Arrays.equals(times, savedShardTimes)) {
        LruSnapshot.save(index, times, lruFile(root, function));
      }
    } finally {
      lock.unlock();
    }
  }

  /** Registers {@code listener} for every later eviction and drop. */
  public void addEvictionListener(EvictionListener listener) {
    evictionListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Unregisters {@code listener}; no-op if it was not registered. */
  public void removeEvictionListener(EvictionListener listener) {
    evictionListeners.remove(listener);
  }

  /** The store's directory. */
  public Path root() {
    return root;
  }

  public Stats stats() {
    lock.lock();
    try {
      return new Stats(index.bytes(), index.count(), maxSizeBytes, evictions.get());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Evicts least-recently-used blobs until at most {@code targetBytes} are used.
   *
   * @return bytes freed
   */
  public long gc(long targetBytes) throws IOException {
    if (targetBytes < 0) {
      throw new IllegalArgumentException("target size must not be negative: " + targetBytes);
    }
    return evictTo(targetBytes);
  }

  /**
   * Evicts least-recently-used blobs until {@code bytes} more would fit within the limit. Called,
   * with growing sizes, while a large blob's bytes arrive ({@link RoomAhead}): the page cache then
   * reuses the memory of the files just deleted for the blob's pages (on a VM, memory the guest
   * freed a while ago can cost as much to touch again as writing the blob itself). Reserves
   * nothing. A size larger than the limit evicts nothing; storing such a blob will fail.
   */
  @Override
  public void makeRoomFor(long bytes) throws IOException {
    if (bytes <= 0 || bytes > maxSizeBytes) {
      return;
    }
    lock.lock();
    try {
      if (index.bytes() + bytes > maxSizeBytes) {
        evictLocked(maxSizeBytes - bytes, null);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The file holding the blob, if the store has it (for hard links and FUSE passthrough). */
  public Optional<Path> pathOf(Digest digest) throws IOException {
    return contains(digest) && !digest.equals(empty) ? Optional.of(blobPath(digest)) : Optional.empty();
  }

  /**
   * The digest of the stored blob whose hash is {@code hash}, for protocols that address blobs by
   * hash alone (Bazel's and ccache's HTTP cache sends no size); the size is the one the blob was
   * stored with. Counts as a use, like {@link #findMissing}. Blobs another process stored are
   * found through the file names of their shard directory and adopted.
   *
   * @throws IllegalArgumentException if {@code hash} is not a valid lowercase hex hash
   */
  public Optional<Digest> findByHash(String hash) throws IOException {
    Digest probe = new Digest(hash, 0); // validates the hash
    if (hash.equals(empty.hash())) {
      return Optional.of(empty);
    }
    lock.lock();
    try {
      long size = index.touchByHash(probe);
      if (size >= 0) {
        return Optional.of(new Digest(hash, size));
      }
    } finally {
      lock.unlock();
    }
    Path shard = casDir.resolve(hash.substring(0, 2));
    if (!Files.isDirectory(shard)) {
      return Optional.empty();
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(shard, hash + "-*")) {
      for (Path file : files) {
        String size = file.getFileName().toString().substring(hash.length() + 1);
        Digest digest;
        try {
          digest = new Digest(hash, Long.parseLong(size));
        } catch (IllegalArgumentException e) {
          continue; // not one of ours
        }
        if (adopt(digest)) {
          return Optional.of(digest);
        }
      }
    }
    return Optional.empty();
  }

  /**
   * {@link #findByHash} from the in-memory index alone, for a caller that must not wait (a
   * network event loop): it never touches the disk, and waits for the store's lock only a few
   * microseconds, spinning (another reader may hold it), never parking. Empty means "not known
   * without waiting": the blob may still be stored (by another process, or a writer held the
   * lock), so ask {@link #findByHash} where waiting is allowed. Counts as a use.
   *
   * @throws IllegalArgumentException if {@code hash} is not a valid lowercase hex hash
   */
  public Optional<Digest> findIndexedByHash(String hash) {
    Digest probe = new Digest(hash, 0); // validates the hash
    if (hash.equals(empty.hash())) {
      return Optional.of(empty);
    }
    if (!tryLockBriefly()) {
      return Optional.empty(); // a writer holds it, maybe while renaming, evicting or syncing
    }
    try {
      long size = index.touchByHash(probe);
      return size >= 0 ? Optional.of(new Digest(hash, size)) : Optional.empty();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Takes the lock if it is free or freed within a few microseconds: readers on other event loops
   * hold it for well under a microsecond, a writer may hold it across a rename or an eviction.
   */
  private boolean tryLockBriefly() {
    for (int i = 0; i < 100; i++) {
      if (lock.tryLock()) {
        return true;
      }
      Thread.onSpinWait();
    }
    return false;
  }

  @Override
  public DigestFunction digestFunction() {
    return function;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    List<Digest> list = digests instanceof List<Digest> l ? l : new ArrayList<>(digests);
    int n = list.size();
    long[] keys = new long[n * KEY];
    long[] words = new long[4];
    for (int i = 0, b = 0; i < n; i++, b += KEY) {
      Digest d = list.get(i);
      BlobIndex.parseHash(d.hash(), words); // a Digest's hash is always 64 lowercase hex digits
      System.arraycopy(words, 0, keys, b, 4);
      keys[b + 4] = d.sizeBytes();
    }
    boolean[] absent = missingKeys(keys, n, list::get);
    Set<Digest> missing = new LinkedHashSet<>();
    for (int i = 0; i < n; i++) {
      if (absent[i]) {
        missing.add(list.get(i));
      }
    }
    return missing;
  }

  /**
   * Checks the wire digests without a {@link Digest} each: the hash text is parsed and validated
   * straight into the index's key, and only digests that need a file-system lookup become
   * objects. (For 100,000 digests this saves most of the call's CPU time.)
   */
  @Override
  public List<build.bazel.remote.execution.v2.Digest> findMissingWire(
      List<build.bazel.remote.execution.v2.Digest> digests) throws IOException {
    int n = digests.size();
    long[] keys = new long[n * KEY];
    long[] words = new long[4];
    for (int i = 0, b = 0; i < n; i++, b += KEY) {
      var d = digests.get(i);
      String hash = d.getHash();
      if (hash.length() != Digest.HASH_HEX_LENGTH || !BlobIndex.parseHash(hash, words)
          || d.getSizeBytes() < 0) {
        Digest.fromProto(d); // throws, naming what is wrong
        throw new IllegalArgumentException("invalid digest " + hash + "/" + d.getSizeBytes());
      }
      System.arraycopy(words, 0, keys, b, 4);
      keys[b + 4] = d.getSizeBytes();
    }
    boolean[] absent = missingKeys(keys, n, i -> Digest.fromProto(digests.get(i)));
    List<build.bazel.remote.execution.v2.Digest> missing = UniqueKeys.select(keys, absent, digests);
    for (var d : missing) {
      // Keeps the hash as bytes in the message (one fast encode), so that writing the answer
      // copies them instead of sizing and encoding the string again, character by character.
      d.getHashBytes();
    }
    return missing;
  }

  /**
   * Which of {@code n} raw keys ({@link #KEY} longs each) the store lacks; {@code digest} gives
   * the {@link Digest} of key {@code i} when it must be looked up on disk.
   */
  private boolean[] missingKeys(long[] keys, int n, IntFunction<Digest> digest) throws IOException {
    boolean[] missing = new boolean[n];
    int[] notIndexed = new int[n];
    int m = 0;
    long perShard;
    lock.lock();
    try {
      for (int i = 0, b = 0; i < n; i++, b += KEY) {
        if (!index.touch(keys[b], keys[b + 1], keys[b + 2], keys[b + 3], keys[b + 4])
            && !isEmpty(keys, b)) {
          notIndexed[m++] = i;
        }
      }
      perShard = index.count() / 256 + 1;
    } finally {
      lock.unlock();
    }
    if (m == 0) {
      return missing;
    }
    // Another process sharing the directory may have stored some of them. Per shard, either the
    // index is known to hold all its files (its time is unchanged since it was listed), or it is
    // listed again when that is cheaper than a lookup per digest, or each digest is looked up.
    int[] perShardCount = new int[256];
    for (int j = 0; j < m; j++) {
      perShardCount[shardOf(keys, notIndexed[j])]++;
    }
    boolean[] trusted = new boolean[256];
    for (int s = 0; s < 256; s++) {
      if (perShardCount[s] == 0) {
        continue;
      }
      ShardClock.Reading before = shards.read(s);
      if (!before.exists() || shards.isVerified(before)) {
        trusted[s] = true;
      } else if (before.settled() && (long) perShardCount[s] * LIST_RATIO >= perShard) {
        adoptShard(s);
        shards.verified(before, shards.read(s), false);
        trusted[s] = true;
      }
    }
    lock.lock();
    try {
      for (int j = 0; j < m; j++) {
        int i = notIndexed[j];
        int b = i * KEY;
        if (trusted[shardOf(keys, i)]) { // adopted by the listing, or put meanwhile
          missing[i] = !index.touch(keys[b], keys[b + 1], keys[b + 2], keys[b + 3], keys[b + 4]);
        }
      }
    } finally {
      lock.unlock();
    }
    for (int j = 0; j < m; j++) {
      int i = notIndexed[j];
      if (!trusted[shardOf(keys, i)]) {
        Digest d = digest.apply(i);
        missing[i] = !(Files.exists(blobPath(d)) && adopt(d));
      }
    }
    return missing;
  }

  /**
   * Brings the index in line with the store directory as other processes changed it since this
   * one last knew it exact: drops entries whose files they deleted ({@code cairn gc}, their
   * evictions) and indexes files they added. For a store kept open long (the store service):
   * without it, a blob another process deleted stays indexed here, and {@link #findMissing} calls
   * it present, so an import would not store it again.
   *
   * <p>One {@code stat} per shard directory; only shards whose time changed (or had not settled)
   * are listed, and marked exact again if nothing changed while they were.
   */
  public void resync() throws IOException {
    ShardClock.Reading[] before = new ShardClock.Reading[256];
    boolean[] stale = new boolean[256];
    BlobIndex listed = null;
    for (int s = 0; s < 256; s++) {
      before[s] = shards.read(s);
      if (shards.isExact(before[s])) {
        continue;
      }
      stale[s] = true;
      IndexScan.Shard shard;
      try {
        shard = IndexScan.listShard(casDir, ShardClock.name(s));
      } catch (UncheckedIOException e) {
        throw e.getCause();
      }
      if (listed == null) {
        listed = new BlobIndex(Math.max(16, shard.count() * 8));
      }
      long[] k = shard.keys();
      for (int i = 0, b = 0; i < shard.count(); i++, b += KEY) {
        listed.add(k[b], k[b + 1], k[b + 2], k[b + 3], k[b + 4]);
      }
    }
    if (listed == null) {
      return;
    }
    BlobIndex onDisk = listed;
    // Indexed blobs of a listed shard that the listing lacks: deleted, unless written meanwhile.
    // Collected under the lock, checked on disk outside it (a put of a digest still indexed does
    // nothing, so none can come back meanwhile unseen), dropped under it.
    List<long[]> gone = new ArrayList<>();
    lock.lock();
    try {
      index.forEachOldestFirstRaw((h0, h1, h2, h3, size) -> {
        if (stale[(int) (h0 >>> 56)] && !onDisk.contains(h0, h1, h2, h3, size)) {
          gone.add(new long[] {h0, h1, h2, h3, size});
        }
      });
    } finally {
      lock.unlock();
    }
    List<Digest> drop = new ArrayList<>();
    for (long[] k : gone) {
      Digest d = BlobIndex.digestOf(k[0], k[1], k[2], k[3], k[4]);
      if (!Files.exists(blobPath(d))) {
        drop.add(d);
      }
    }
    lock.lock();
    try {
      for (Digest d : drop) {
        if (!Files.exists(blobPath(d)) && index.remove(d)) { // still gone: not put meanwhile
          tellDropped(d);
        }
      }
      boolean[] added = {false};
      onDisk.forEachOldestFirstRaw((h0, h1, h2, h3, size) -> {
        if (!index.contains(h0, h1, h2, h3, size)) {
          Digest d = BlobIndex.digestOf(h0, h1, h2, h3, size);
          if (Files.exists(blobPath(d))) {
            index.add(h0, h1, h2, h3, size);
            added[0] = true;
          }
        }
      });
      if (added[0]) {
        evictLocked(maxSizeBytes, null);
      }
    } finally {
      lock.unlock();
    }
    for (int s = 0; s < 256; s++) {
      if (stale[s]) {
        shards.verified(before[s], shards.read(s), true);
      }
    }
  }

  private static int shardOf(long[] keys, int i) {
    return (int) (keys[i * KEY] >>> 56);
  }

  private boolean isEmpty(long[] keys, int b) {
    return keys[b + 4] == 0 && keys[b] == emptyKey[0] && keys[b + 1] == emptyKey[1]
        && keys[b + 2] == emptyKey[2] && keys[b + 3] == emptyKey[3];
  }

  /**
   * Lists one shard directory and indexes the blob files in it that the index lacks (written by
   * another process). Each of those is checked under the lock, so that a blob this process evicts
   * while the listing runs is not indexed again.
   */
  private void adoptShard(int shard) throws IOException {
    IndexScan.Shard listed;
    try {
      listed = IndexScan.listShard(casDir, ShardClock.name(shard));
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
    long[] k = listed.keys();
    lock.lock();
    try {
      boolean added = false;
      for (int i = 0, b = 0; i < listed.count(); i++, b += KEY) {
        if (!index.contains(k[b], k[b + 1], k[b + 2], k[b + 3], k[b + 4])) {
          Digest d = BlobIndex.digestOf(k[b], k[b + 1], k[b + 2], k[b + 3], k[b + 4]);
          if (Files.exists(blobPath(d))) {
            index.add(k[b], k[b + 1], k[b + 2], k[b + 3], k[b + 4]);
            added = true;
          }
        }
      }
      if (added) {
        evictLocked(maxSizeBytes, null);
      }
    } finally {
      lock.unlock();
    }
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (offset < 0 || offset > digest.sizeBytes()) {
      throw new IllegalArgumentException(
          "read offset " + offset + " is outside blob " + digest);
    }
    if (digest.equals(empty)) {
      return InputStream.nullInputStream();
    }
    Path path = blobPath(digest);
    FileChannel channel;
    try {
      channel = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      forget(digest);
      throw new BlobNotFoundException(digest);
    }
    try {
      long actual = channel.size();
      if (actual != digest.sizeBytes()) {
        LOG.log(Level.WARNING, "dropping corrupt blob {0}: file has {1} bytes", digest, actual);
        channel.close();
        drop(digest);
        throw new BlobNotFoundException(digest);
      }
      lock.lock();
      try {
        // Indexed again only if its file is still there: it may have been unlinked (by an
        // eviction here or another process) since it was opened; an entry without a file would
        // make findMissing call it present.
        if (!index.touch(digest) && Files.exists(path)) {
          index.add(digest);
          evictLocked(maxSizeBytes, digest);
        }
      } finally {
        lock.unlock();
      }
      channel.position(offset);
      return Channels.newInputStream(channel);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
  }

  @Override
  public void put(Digest digest, InputStream data) throws IOException {
    if (digest.equals(empty)) {
      new VerifyingInputStream(data, digest, function).transferTo(OutputSink.INSTANCE);
      return;
    }
    lock.lock();
    try {
      if (index.touch(digest)) {
        return;
      }
    } finally {
      lock.unlock();
    }
    if (digest.sizeBytes() > maxSizeBytes) {
      throw new StoreFullException(
          "blob " + digest + " is larger than the store's limit of " + maxSizeBytes + " bytes ("
              + root + ")");
    }
    Path temp = tmpDir.resolve(PID + "-" + tempCounter.incrementAndGet() + "-"
        + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    try {
      writeTemp(temp, new VerifyingInputStream(data, digest, function), digest);
      commit(temp, digest);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /**
   * Takes a local file over: hashes it, and if it matches, renames it into place (no copy) when it
   * lies on the store's file system; copies it otherwise.
   */
  @Override
  public void putFile(Digest digest, Path file) throws IOException {
    adopt(digest, file, false);
  }

  /**
   * As {@link #putFile}, without reading the file to hash it when it can be renamed into place:
   * the caller hashed it as it wrote it. Its size is still checked; a file on another file
   * system is copied through {@link #put}, which verifies.
   */
  @Override
  public void putHashedFile(Digest digest, Path file) throws IOException {
    adopt(digest, file, true);
  }

  private void adopt(Digest digest, Path file, boolean hashedByCaller) throws IOException {
    if (digest.equals(empty) || contains(digest)) {
      putEmptyOrPresent(digest, file);
      return;
    }
    if (digest.sizeBytes() > maxSizeBytes) {
      throw new StoreFullException(
          "blob " + digest + " is larger than the store's limit of " + maxSizeBytes + " bytes ("
              + root + ")");
    }
    if (hashedByCaller) {
      long size = Files.size(file);
      if (size != digest.sizeBytes()) {
        throw DigestMismatchException.sizeDiffers(digest, size);
      }
    } else {
      try (InputStream in = Files.newInputStream(file)) {
        new VerifyingInputStream(in, digest, function).transferTo(OutputSink.INSTANCE);
      }
    }
    if (!Files.getFileStore(file).equals(Files.getFileStore(tmpDir))) {
      try (InputStream in = Files.newInputStream(file)) {
        put(digest, in);
      }
      return;
    }
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("r--r--r--"));
    if (fsync) {
      try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
        ch.force(false);
      }
    }
    commit(file, digest);
  }

  private void putEmptyOrPresent(Digest digest, Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      put(digest, in);
    }
  }

  private void writeTemp(Path temp, InputStream in, Digest digest) throws IOException {
    try (FileChannel out = FileChannel.open(
        temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      // Sized to the blob (plus one byte, to see excess data): most blobs are small.
      byte[] chunk = new byte[(int) Math.min(COPY_CHUNK, digest.sizeBytes() + 1)];
      RoomAhead room = new RoomAhead(this, digest.sizeBytes());
      long written = 0;
      for (int n; (n = in.readNBytes(chunk, 0, chunk.length)) > 0; ) {
        written += n;
        room.arrived(written);
        ByteBuffer buffer = ByteBuffer.wrap(chunk, 0, n);
        while (buffer.hasRemaining()) {
          out.write(buffer);
        }
      }
      if (fsync) {
        out.force(false);
      }
    } catch (IOException e) {
      if (isNoSpace(e)) {
        throw new StoreFullException(
            "no space left on the device of " + root + " while storing " + digest, e);
      }
      throw e;
    }
    Files.setPosixFilePermissions(temp, PosixFilePermissions.fromString("r--r--r--"));
  }

  private static boolean isNoSpace(IOException e) {
    String m = e.getMessage();
    return m != null && (m.contains("No space left") || m.contains("Disk quota exceeded"));
  }

  /** Renames the verified temp file into place and indexes it, evicting to stay in the limit. */
  private void commit(Path temp, Digest digest) throws IOException {
    Path target = blobPath(digest);
    lock.lock();
    try {
      if (index.touch(digest)) {
        return; // a concurrent writer won; our temp file is deleted by the caller
      }
      Files.createDirectories(target.getParent());
      try {
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        throw new IOException("store " + root + ": atomic rename not supported", e);
      }
      if (fsync) {
        fsyncDirectory(target.getParent());
      }
      index.add(digest);
      evictLocked(maxSizeBytes, digest);
    } finally {
      lock.unlock();
    }
  }

  private long evictTo(long targetBytes) throws IOException {
    lock.lock();
    try {
      return evictLocked(targetBytes, null);
    } finally {
      lock.unlock();
    }
  }

  /** Deletes least-recently-used blobs, never {@code keep}, until at most target bytes remain. */
  private long evictLocked(long targetBytes, Digest keep) throws IOException {
    long freed = 0;
    while (index.bytes() > targetBytes) {
      Digest victim = index.oldest();
      if (victim == null || victim.equals(keep)) {
        break;
      }
      index.remove(victim);
      Files.deleteIfExists(blobPath(victim));
      freed += victim.sizeBytes();
      evictions.incrementAndGet();
      for (EvictionListener l : evictionListeners) {
        try {
          l.evicted(victim);
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "eviction listener failed on " + victim, e);
        }
      }
    }
    return freed;
  }

  /** Indexes a blob found on disk but not in the index (written by another process). */
  private boolean adopt(Digest digest) throws IOException {
    lock.lock();
    try {
      if (!Files.exists(blobPath(digest))) {
        return false;
      }
      if (index.add(digest)) {
        evictLocked(maxSizeBytes, digest);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  private void forget(Digest digest) {
    lock.lock();
    try {
      if (index.remove(digest)) {
        tellDropped(digest);
      }
    } finally {
      lock.unlock();
    }
  }

  private void drop(Digest digest) throws IOException {
    lock.lock();
    try {
      index.remove(digest);
      Files.deleteIfExists(blobPath(digest));
      tellDropped(digest);
    } finally {
      lock.unlock();
    }
  }

  private void tellDropped(Digest digest) {
    for (EvictionListener l : evictionListeners) {
      try {
        l.dropped(digest);
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "eviction listener failed on dropped " + digest, e);
      }
    }
  }

  /**
   * The file that holds the blob if it is stored, named without asking the index (unlike {@link
   * #pathOf}): for a caller that just found the digest, and opens the file knowing it may have
   * been evicted since. The empty blob has no file.
   */
  public Path blobPath(Digest digest) {
    String hash = digest.hash();
    return casDir.resolve(hash.substring(0, 2)).resolve(hash + "-" + digest.sizeBytes());
  }

  private static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  /** Deletes temp files whose writing process is gone (their names start with its pid). */
  private static void cleanTemp(Path tmp) throws IOException {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(tmp)) {
      for (Path p : entries) {
        String name = p.getFileName().toString();
        int dash = name.indexOf('-');
        long pid = -1;
        try {
          pid = dash > 0 ? Long.parseLong(name.substring(0, dash)) : -1;
        } catch (NumberFormatException e) {
          // not one of ours; removed below
        }
        boolean alive = pid == PID
            || (pid > 0 && ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false));
        if (!alive) {
          try {
            Files.deleteIfExists(p);
          } catch (IOException e) {
            throw new UncheckedIOException("cannot remove stale temp file " + p, e);
          }
        }
      }
    }
  }

  /** Discards bytes; used to drain and verify the empty blob. */
  private static final class OutputSink extends java.io.OutputStream {
    static final OutputSink INSTANCE = new OutputSink();

    @Override
    public void write(int b) {}

    @Override
    public void write(byte[] b, int off, int len) {}
  }
}
