package dev.cairn.core.tree;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Turns a local directory into a Merkle tree in a {@link BlobStore} and returns its root digest.
 *
 * <p>First a walk with no-follow stat calls records the shape of the tree (so progress has a
 * total), then files are hashed in parallel, streaming in 1 MiB chunks, and Directory messages
 * are built bottom-up in canonical form. One {@code findMissing} call then asks the store what it
 * lacks, and only that is uploaded, in parallel: small files in batches (one request per batch
 * for a remote store), large ones streamed. Symlinks are stored as symlinks with their
 * target verbatim; devices, sockets and fifos are refused with the path named. A file that
 * changes while it is imported makes the import fail rather than store a wrong tree.
 *
 * <p>With a {@link DigestCache}, a file whose inode, size, mtime and ctime are those of the last
 * import is not read: its digest comes from the cache.
 */
public final class MerkleTreeBuilder {

  /** What an import did. */
  public record Result(
      Digest root, long files, long directories, long symlinks, long bytes, long blobsStored,
      long bytesStored, long filesHashed) {}

  private static final int CHUNK = 1 << 20;
  /** Files up to this size are uploaded in batches. */
  private static final long SMALL_FILE = 256 * 1024;
  /** Bytes of small files per batch. */
  private static final long BATCH_BYTES = 2L << 20;
  /**
   * Heap buffers: the JDK's SHA-256 intrinsic works on arrays, and hashing from a direct buffer
   * goes through a slow copying path in MessageDigestSpi (it was most of a warm import's time).
   */
  private static final ThreadLocal<ByteBuffer> BUFFERS =
      ThreadLocal.withInitial(() -> ByteBuffer.allocate(CHUNK));

  private final BlobStore store;
  private final DigestFunction function;
  private final int parallelism;
  private final Progress progress;
  private final DigestCache cache;
  private final AtomicLong filesHashed = new AtomicLong();
  private final AtomicLong blobsStored = new AtomicLong();
  private final AtomicLong bytesStored = new AtomicLong();

  public MerkleTreeBuilder(BlobStore store, int parallelism, Progress progress) {
    this(store, parallelism, progress, DigestCache.none());
  }

  /**
   * A builder that takes the digests of files unchanged since the last import from {@code
   * cache} and records the ones it computes there (the caller saves it after {@link #build}).
   */
  public MerkleTreeBuilder(BlobStore store, int parallelism, Progress progress, DigestCache cache) {
    this.cache = Objects.requireNonNull(cache, "cache");
    this.store = Objects.requireNonNull(store, "store");
    this.function = store.digestFunction();
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
    }
    this.parallelism = parallelism;
    this.progress = Objects.requireNonNull(progress, "progress");
  }

  public MerkleTreeBuilder(BlobStore store) {
    this(store, Runtime.getRuntime().availableProcessors(), Progress.NONE);
  }

  /** Imports {@code root} (a directory; a symlink to one is followed at the top only). */
  public Result build(Path root) throws IOException {
    if (!Files.isDirectory(root)) {
      throw Files.exists(root, LinkOption.NOFOLLOW_LINKS)
          ? new NotDirectoryException(root.toString())
          : new java.nio.file.NoSuchFileException(root.toString(), null, "no such directory");
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(parallelism, threadFactory())) {
      try {
        // Hashing starts with the first directory listed, while the walk goes on: the walk is
        // mostly system calls, and on two cores it no longer runs before the hashing (one fewer
        // serial phase; a tenth of a warm --rehash of the JDK sources).
        DirShape shape = walk(root, cache.enabled() ? cache::now : null, pool);
        Counts counts = new Counts();
        counts.add(shape);
        progress.start("import", counts.files, counts.bytes);
        return finish(shape, counts, pool);
      } catch (Throwable e) { // also an Error: closing the pool would wait for all queued hashing
        pool.shutdownNow();
        throw e;
      }
    } finally {
      progress.finish(); // also on failure: a bar left running would draw for ever
    }
  }

  private Result finish(DirShape shape, Counts counts, ExecutorService pool) throws IOException {
    Map<Digest, byte[]> directoryBlobs = new LinkedHashMap<>();
    Map<Digest, Path> files = new LinkedHashMap<>(); // each distinct content once
    Digest rootDigest = assemble(shape, directoryBlobs, files);
    List<Digest> all = new ArrayList<>(files.size() + directoryBlobs.size());
    all.addAll(files.keySet());
    all.addAll(directoryBlobs.keySet());
    Set<Digest> missing = store.findMissing(all);
    uploadFiles(files, missing, pool);
    Map<Digest, byte[]> missingDirectories = new LinkedHashMap<>();
    for (var e : directoryBlobs.entrySet()) {
      if (missing.contains(e.getKey())) {
        missingDirectories.put(e.getKey(), e.getValue());
        bytesStored.addAndGet(e.getValue().length);
      }
    }
    store.putAll(missingDirectories);
    blobsStored.addAndGet(missingDirectories.size());
    return new Result(rootDigest, counts.files, counts.directories, counts.symlinks,
        counts.bytes, blobsStored.get(), bytesStored.get(), filesHashed.get());
  }

  /**
   * Uploads the missing files in parallel: small ones read whole and sent in batches (one request
   * each for a remote store), large ones streamed one by one.
   */
  private void uploadFiles(Map<Digest, Path> files, Set<Digest> missing, ExecutorService pool)
      throws IOException {
    List<Future<?>> uploads = new ArrayList<>();
    List<Path> what = new ArrayList<>();
    Map<Digest, Path> batch = new LinkedHashMap<>();
    long batchBytes = 0;
    for (var e : files.entrySet()) {
      Digest d = e.getKey();
      if (!missing.contains(d)) {
        continue;
      }
      if (d.sizeBytes() > SMALL_FILE) {
        uploads.add(pool.submit(() -> putLarge(d, e.getValue())));
        what.add(e.getValue());
        continue;
      }
      if (batchBytes + d.sizeBytes() > BATCH_BYTES && !batch.isEmpty()) {
        Map<Digest, Path> full = batch;
        uploads.add(pool.submit(() -> putSmall(full)));
        what.add(full.values().iterator().next());
        batch = new LinkedHashMap<>();
        batchBytes = 0;
      }
      batch.put(d, e.getValue());
      batchBytes += d.sizeBytes();
    }
    if (!batch.isEmpty()) {
      Map<Digest, Path> last = batch;
      uploads.add(pool.submit(() -> putSmall(last)));
      what.add(last.values().iterator().next());
    }
    for (int i = 0; i < uploads.size(); i++) {
      Tasks.await(uploads.get(i), what.get(i), "importing");
    }
  }

  private Void putLarge(Digest digest, Path path) throws IOException {
    try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
      store.put(digest, in);
    } catch (DigestMismatchException e) {
      throw new IOException(path + ": file changed while it was being imported", e);
    }
    blobsStored.incrementAndGet();
    bytesStored.addAndGet(digest.sizeBytes());
    return null;
  }

  private Void putSmall(Map<Digest, Path> batch) throws IOException {
    Map<Digest, byte[]> blobs = new LinkedHashMap<>();
    for (var e : batch.entrySet()) {
      byte[] bytes;
      try (InputStream in = Files.newInputStream(e.getValue(), LinkOption.NOFOLLOW_LINKS)) {
        bytes = in.readNBytes((int) e.getKey().sizeBytes() + 1);
      }
      if (bytes.length != e.getKey().sizeBytes()) {
        throw new IOException(e.getValue() + ": file changed while it was being imported");
      }
      blobs.put(e.getKey(), bytes);
    }
    try {
      store.putAll(blobs);
    } catch (DigestMismatchException e) {
      throw new IOException(batch.getOrDefault(e.expected(), Path.of("?"))
          + ": file changed while it was being imported", e);
    }
    blobsStored.addAndGet(blobs.size());
    bytesStored.addAndGet(blobs.values().stream().mapToLong(b -> b.length).sum());
    return null;
  }

  private static java.util.concurrent.ThreadFactory threadFactory() {
    return Thread.ofPlatform().name("cairn-hash-", 0).daemon(true).factory();
  }

  private static final class Counts {
    long files;
    long directories;
    long symlinks;
    long bytes;

    void add(DirShape shape) {
      directories++;
      files += shape.files.size();
      symlinks += shape.links.size();
      for (FileShape f : shape.files) {
        bytes += f.size;
      }
      for (DirShape d : shape.dirs) {
        add(d);
      }
    }
  }

  /**
   * A file as the walk saw it; {@code stamp} is null where the platform has no unix stat or the
   * walk took none, else it was taken after {@code stampedAt} (wall clock, milliseconds).
   */
  private record FileShape(String name, Path path, boolean executable, long size, FileStamp stamp,
      long stampedAt) {}

  private record LinkShape(String name, String target) {}

  private static final class DirShape {
    final String name;
    final List<FileShape> files = new ArrayList<>();
    final List<DirShape> dirs = new ArrayList<>();
    final List<LinkShape> links = new ArrayList<>();
    final List<Future<Digest>> fileDigests = new ArrayList<>();

    DirShape(String name) {
      this.name = name;
    }
  }

  /**
   * Lists and stats the whole tree, handing each directory's files to {@link #submitFiles} as soon
   * as it is listed. One thread: on this 2-core machine a fork/join walk of the 15k-file JDK
   * sources took 127-168 ms against 113-125 ms for one thread.
   */
  private DirShape walk(Path dir, LongSupplier stamps, ExecutorService pool) throws IOException {
    List<Path> subdirs = new ArrayList<>();
    DirShape shape = walkOne(dir, subdirs, stamps);
    submitFiles(shape, pool);
    for (Path sub : subdirs) {
      shape.dirs.add(walk(sub, stamps, pool));
    }
    shape.dirs.sort((a, b) -> Name.compareUtf8(a.name, b.name));
    return shape;
  }

  /**
   * Lists and stats one directory; its subdirectories go to {@code subdirs}, not yet walked.
   * Files get a {@link FileStamp} if {@code stamps}, the clock the digest cache reads (a slower
   * stat call), with the time before the directory's first stat.
   */
  private static DirShape walkOne(Path dir, List<Path> subdirs, LongSupplier stamps)
      throws IOException {
    DirShape shape = new DirShape(dir.getFileName() == null ? "" : dir.getFileName().toString());
    long stampedAt = stamps == null ? 0 : stamps.getAsLong();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      for (Path entry : entries) {
        String name = entry.getFileName().toString();
        String problem = Name.problem(name);
        if (problem != null) {
          throw new InvalidTreeException(entry + ": " + problem);
        }
        // A name that is not valid UTF-8 decodes lossily (bytes become U+FFFD) and would be stored
        // as a different name: re-encoded, it is no longer the same path (paths compare by bytes).
        if (name.indexOf('\uFFFD') >= 0 && !entry.equals(dir.resolve(name))) {
          throw new InvalidTreeException(entry + ": name is not valid UTF-8");
        }
        Entry attrs = lstat(entry, stamps != null);
        if (attrs.regularFile) {
          shape.files.add(new FileShape(name, entry, attrs.executable, attrs.size, attrs.stamp,
              stampedAt));
        } else if (attrs.directory) {
          subdirs.add(entry);
        } else if (attrs.symlink) {
          String target = Files.readSymbolicLink(entry).toString();
          if (target.isEmpty()) {
            throw new InvalidTreeException(entry + ": symlink with an empty target");
          }
          shape.links.add(new LinkShape(name, target));
        } else {
          throw new SpecialFileException(entry, kindOf(entry));
        }
      }
    }
    shape.files.sort((a, b) -> Name.compareUtf8(a.name, b.name));
    shape.links.sort((a, b) -> Name.compareUtf8(a.name, b.name));
    return shape;
  }

  /** One no-follow stat of a directory entry: its type, and what a file's digest depends on. */
  private record Entry(
      boolean regularFile, boolean directory, boolean symlink, boolean executable, long size,
      FileStamp stamp) {}

  private static Entry lstat(Path entry, boolean stamp) throws IOException {
    Map<String, Object> unix = stamp ? FileStamp.lstat(entry) : null;
    if (unix != null) {
      int type = FileStamp.type(unix);
      return new Entry(type == FileStamp.S_IFREG, type == FileStamp.S_IFDIR,
          type == FileStamp.S_IFLNK, FileStamp.ownerExecutable(unix), (Long) unix.get("size"),
          FileStamp.of(unix));
    }
    PosixFileAttributes posix =
        Files.readAttributes(entry, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    return new Entry(posix.isRegularFile(), posix.isDirectory(), posix.isSymbolicLink(),
        posix.permissions().contains(PosixFilePermission.OWNER_EXECUTE), posix.size(), null);
  }

  private static String kindOf(Path p) {
    try {
      Object mode = Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS);
      int type = ((Integer) mode) & 0170000;
      return switch (type) {
        case 0140000 -> "socket";
        case 0060000 -> "block device";
        case 0020000 -> "character device";
        case 0010000 -> "fifo";
        default -> "special file";
      };
    } catch (IOException | UnsupportedOperationException e) {
      return "special file";
    }
  }

  /**
   * Hashes, on the pool, the files of one directory that the cache does not know; the others are
   * done at once. Progress may hear of them before it is told the total (the walk is not over).
   */
  private void submitFiles(DirShape shape, ExecutorService pool) {
    for (FileShape f : shape.files) {
      Digest known = cache.lookup(f.stamp, f.path);
      if (known != null) {
        progress.advance(known.sizeBytes());
        shape.fileDigests.add(CompletableFuture.completedFuture(known));
      } else {
        shape.fileDigests.add(pool.submit(() -> hashFile(f)));
      }
    }
  }

  private Digest hashFile(FileShape file) throws IOException {
    Digest digest = hash(file.path);
    filesHashed.incrementAndGet();
    // The walk's stamp is the "before" of the settle rule: taken before the bytes were read, it
    // is older than one taken now would be, which only makes the rule stricter (a file changed
    // within 2 s before the walk is not remembered this time). Stamped again only where the cache
    // could remember it: no extra stat call on FUSE or NFS.
    if (cache.remembers(file.stamp, file.path)) {
      cache.record(file.stamp, file.stampedAt, FileStamp.read(file.path), digest, file.path);
    }
    progress.advance(digest.sizeBytes());
    return digest;
  }

  private Digest hash(Path path) throws IOException {
    Hasher hasher = function.newHasher();
    ByteBuffer buffer = BUFFERS.get();
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)) {
      while (true) {
        buffer.clear();
        int n = ch.read(buffer);
        if (n < 0) {
          break;
        }
        hasher.update(buffer.array(), 0, n);
      }
    }
    return hasher.finish();
  }

  private Digest assemble(DirShape shape, Map<Digest, byte[]> directoryBlobs, Map<Digest, Path> files)
      throws IOException {
    Directory.Builder b = Directory.newBuilder();
    for (int i = 0; i < shape.files.size(); i++) {
      FileShape f = shape.files.get(i);
      Digest d = Tasks.await(shape.fileDigests.get(i), f.path, "importing");
      files.putIfAbsent(d, f.path);
      b.addFiles(FileNode.newBuilder()
          .setName(f.name).setDigest(d.toProto()).setIsExecutable(f.executable));
    }
    for (DirShape child : shape.dirs) {
      Digest d = assemble(child, directoryBlobs, files);
      b.addDirectories(DirectoryNode.newBuilder().setName(child.name).setDigest(d.toProto()));
    }
    for (LinkShape l : shape.links) {
      b.addSymlinks(SymlinkNode.newBuilder().setName(l.name).setTarget(l.target));
    }
    byte[] bytes = MerkleCodec.encode(b.build());
    Digest digest = function.digestOf(bytes);
    directoryBlobs.putIfAbsent(digest, bytes);
    return digest;
  }

}
