package dev.cairn.vfs;

import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.Hasher;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.core.tree.Name;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A copy-on-write tree over a read-only lower {@link Directory} (in practice a {@link
 * CasDirectory}): edits never touch the lower tree, and unchanged parts cost nothing. It exists so
 * that a large stored tree can be edited (by {@code cairn edit}, later by a FUSE mount) while
 * reading and hashing only what changed.
 *
 * <p>Design: the overlay keeps its own persistent tree, edited by path copying as in {@code
 * CasDirectory}. A leaf is a file of the lower tree (its lower path, size and digest), a file in
 * the local {@code scratch} directory (written or imported through the overlay, not yet hashed),
 * or a stored blob; a directory not yet looked into is a reference to a lower path, listed on
 * demand. Removing an entry drops it from its parent's copied map (the copy is the whiteout);
 * copying or moving an untouched subtree moves the reference, so it never reads the files below.
 * Scratch files are immutable once written, so copies share them. {@link #snapshot()} hashes and
 * stores only scratch files (and lower files or directories whose digest the lower cannot give),
 * reuses the lower's digests for everything else, writes Directory messages for changed
 * directories only, and then deletes the scratch files it stored.
 *
 * <p><b>Files edited in place.</b> {@link #scratchFile} gives a file a scratch file of its own
 * (a <i>live</i> one), which the caller (a FUSE mount) reads, writes and truncates directly.
 * {@code stat} reports its current size, {@code read} its current bytes; each snapshot hashes it
 * again unless its size, mtime, ctime and inode are those of the last hash and it had not been
 * touched for a second before that hash began (so a write within the file system's timestamp
 * granularity is never missed). A live file stays a scratch file after a snapshot; a directory
 * holding one has no settled digest. Copies of a live file get a frozen copy of its bytes.
 *
 * <p><b>Concurrency.</b> The tree is persistent and published through a volatile field: {@code
 * stat}, {@code list} and {@code read} walk the current version without locking (FUSE serves
 * them from many threads), and a path under a directory the overlay has not touched is one
 * {@code stat} of the lower tree, never a listing of every level. Edits and snapshots are
 * serialized by the handle's lock; each operation is atomic.
 *
 * <p>The lower tree must not change while the overlay is in use, and the blobs its digests name
 * must be in {@code store} (as they are when the lower is a {@code CasDirectory} over the same
 * store): the snapshot refers to them without copying. {@link #close()} deletes the scratch files
 * still held; it does not close the lower. This class is over 500 lines because the persistent
 * tree, its copy-on-write edits and the incremental snapshot share one private node model.
 */
public final class OverlayDirectory implements Directory {

  private sealed interface T permits FileT, LinkT, DirT {}

  /**
   * A file. Its bytes are in the lower tree at {@code lower}, or in the scratch file {@code
   * scratch}, or (neither) in the store under {@code digest}. The digest is null until known. A
   * {@code live} file's scratch file is edited in place by the caller of {@link #scratchFile}: its
   * size and digest are only known by looking at it, and it is never shared.
   */
  private record FileT(long size, boolean executable, Digest digest, TreePath lower, Path scratch,
      boolean live) implements T {
    FileT withExecutable(boolean exec) {
      return new FileT(size, exec, digest, lower, scratch, live);
    }
  }

  private record LinkT(String target) implements T {}

  /**
   * A directory: its digest if unchanged or sealed (else null), the lower path to list it from if
   * it is untouched (else null), its children once copied (else null).
   */
  private record DirT(Digest digest, TreePath lower, Map<Name, T> children) implements T {
    static final DirT EMPTY = new DirT(null, null, Collections.emptyMap());
  }

  private final Directory lower;
  private final BlobStore store;
  private final Path scratch;
  /** The current tree: read without locking, replaced only under the lock. */
  private volatile DirT root;
  /** Scratch files this overlay created and has not deleted yet. */
  private final Set<Path> scratchInTree = new HashSet<>(); // guarded by this
  /** What the last snapshot learned about each live file, to skip hashing unchanged ones. */
  private final Map<Path, LiveHash> liveHashes = new HashMap<>(); // guarded by this

  private final PathCopying<T, DirT> edits =
      new PathCopying<>(DirT.class, this::children, c -> new DirT(null, null, c), this::find);

  private OverlayDirectory(Directory lower, BlobStore store, Path scratch, DirT root) {
    this.lower = lower;
    this.store = store;
    this.scratch = scratch;
    this.root = root;
  }

  /**
   * An overlay over {@code lower}, storing snapshots in {@code store} and keeping new file contents
   * in {@code scratch} (created if absent) until then.
   */
  public static OverlayDirectory over(Directory lower, BlobStore store, Path scratch)
      throws IOException {
    Objects.requireNonNull(lower, "lower");
    Objects.requireNonNull(store, "store");
    Files.createDirectories(scratch);
    if (!(lower.stat(TreePath.ROOT) instanceof Node.Dir d)) {
      throw new NotDirectoryException("lower root");
    }
    return new OverlayDirectory(lower, store, scratch, new DirT(d.digest().orElse(null), TreePath.ROOT, null));
  }

  // ------------------------------------------------------------------ reading

  @Override
  public Node stat(TreePath path) throws IOException {
    return toNode(edits.resolve(root, path));
  }

  @Override
  public List<Entry> list(TreePath directory) throws IOException {
    if (!(edits.resolve(root, directory) instanceof DirT dir)) {
      throw new NotDirectoryException(directory.toString());
    }
    List<Entry> entries = new ArrayList<>();
    for (var e : children(dir).entrySet()) {
      entries.add(new Entry(e.getKey(), toNode(e.getValue())));
    }
    return entries;
  }

  @Override
  public InputStream read(TreePath file) throws IOException {
    return open(regularFile(edits.resolve(root, file), file));
  }

  private static FileT regularFile(T node, TreePath path) throws FileSystemException {
    return switch (node) {
      case FileT f -> f;
      case DirT d -> throw new IsDirectoryException(path.toString());
      case LinkT l -> throw new FileSystemException(path.toString(), null, "is a symbolic link");
    };
  }

  /** The file's current bytes. */
  private InputStream open(FileT f) throws IOException {
    if (f.scratch() != null) {
      try {
        return Files.newInputStream(f.scratch());
      } catch (NoSuchFileException e) {
        // A snapshot stored and deleted it since this version of the tree was read.
        Digest sealed;
        synchronized (this) {
          sealed = sealedDigests.get(f.scratch());
        }
        if (sealed == null) {
          throw e;
        }
        return store.openRead(sealed, 0);
      }
    }
    if (f.lower() != null) {
      return lower.read(f.lower());
    }
    return store.openRead(f.digest(), 0);
  }

  private static Node toNode(T node) throws IOException {
    return switch (node) {
      case FileT f when f.live() -> new Node.File(liveSize(f), f.executable(), Optional.empty());
      case FileT f -> new Node.File(f.size(), f.executable(), Optional.ofNullable(f.digest()));
      case LinkT l -> new Node.Link(l.target());
      case DirT d -> new Node.Dir(Optional.ofNullable(d.digest()));
    };
  }

  /**
   * The current size of a live file. A reader may hold a version of the tree in which a file
   * just removed (and its scratch file deleted) still appears: that race reads as empty.
   */
  private static long liveSize(FileT f) throws IOException {
    try {
      return Files.size(f.scratch());
    } catch (NoSuchFileException e) {
      return 0;
    }
  }

  // ------------------------------------------------------------------ writing

  @Override
  public void write(TreePath file, InputStream content) throws IOException {
    PathCopying.requireNotRoot(file, "write");
    Path spool = Files.createTempFile(scratch, "write-", "");
    boolean placed = false;
    try {
      long size;
      try (OutputStream out = Files.newOutputStream(spool)) {
        size = content.transferTo(out);
      }
      synchronized (this) {
        DirT parent = edits.parentDir(root, file);
        T existing = children(parent).get(file.fileName());
        boolean exec = false;
        if (existing instanceof DirT) {
          throw new IsDirectoryException(file.toString());
        } else if (existing instanceof LinkT) {
          throw new FileSystemException(file.toString(), null, "is a symbolic link");
        } else if (existing instanceof FileT f) {
          exec = f.executable();
        }
        root = edits.put(root, file, new FileT(size, exec, null, null, spool, false));
        scratchInTree.add(spool);
        placed = true;
        release(existing);
      }
    } finally {
      if (!placed) {
        Files.deleteIfExists(spool);
      }
    }
  }

  @Override
  public synchronized void mkdir(TreePath directory, boolean parents) throws IOException {
    if (directory.isRoot()) {
      if (parents) {
        return;
      }
      throw new FileAlreadyExistsException("", null, "the root exists");
    }
    T existing = find(directory);
    if (existing != null) {
      if (parents && existing instanceof DirT) {
        return;
      }
      throw new FileAlreadyExistsException(directory.toString());
    }
    if (!parents) {
      edits.parentDir(root, directory);
      root = edits.put(root, directory, DirT.EMPTY);
      return;
    }
    DirT result = root;
    TreePath p = TreePath.ROOT;
    for (Name n : directory.names()) {
      p = p.resolve(n);
      T at = find(result, p);
      if (at == null) {
        result = edits.put(result, p, DirT.EMPTY);
      } else if (!(at instanceof DirT)) {
        throw new NotDirectoryException(p.toString());
      }
    }
    root = result;
  }

  @Override
  public synchronized void symlink(String target, TreePath link) throws IOException {
    PathCopying.requireNotRoot(link, "create a symlink at");
    SymlinkTargets.requireStorable(target);
    if (children(edits.parentDir(root, link)).containsKey(link.fileName())) {
      throw new FileAlreadyExistsException(link.toString());
    }
    root = edits.put(root, link, new LinkT(target));
  }

  @Override
  public synchronized void setExecutable(TreePath file, boolean executable) throws IOException {
    if (!(edits.resolve(root, file) instanceof FileT f)) {
      throw new FileSystemException(file.toString(), null, "not a regular file");
    }
    root = edits.put(root, file, f.withExecutable(executable));
  }

  @Override
  public synchronized void copy(TreePath source, TreePath target) throws IOException {
    T node = edits.resolve(root, source);
    TreePath to = edits.intoIfDirectory(root, source, target);
    if (node instanceof DirT && to.startsWith(source)) {
      throw new InvalidOperationException(source.toString(), to.toString(), "cannot copy a directory into itself");
    }
    List<Path> frozen = new ArrayList<>();
    boolean placed = false;
    try {
      root = edits.place(root, to, frozen(node, frozen));
      scratchInTree.addAll(frozen);
      placed = true;
    } finally {
      if (!placed) {
        for (Path p : frozen) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /**
   * {@code node} with every live file replaced by a frozen copy of its current bytes (listed in
   * {@code made}), so that a copy does not change when the original is edited in place. Only
   * unsettled directories can hold live files, so untouched subtrees are not walked.
   */
  private T frozen(T node, List<Path> made) throws IOException {
    return switch (node) {
      case FileT f when f.live() -> {
        Path copy = Files.createTempFile(scratch, "copy-", "");
        made.add(copy);
        Files.copy(f.scratch(), copy, StandardCopyOption.REPLACE_EXISTING);
        yield new FileT(Files.size(copy), f.executable(), null, null, copy, false);
      }
      case DirT d when d.digest() == null && d.children() != null -> {
        Map<Name, T> children = new TreeMap<>();
        for (var e : d.children().entrySet()) {
          children.put(e.getKey(), frozen(e.getValue(), made));
        }
        yield new DirT(null, null, Collections.unmodifiableMap(children));
      }
      default -> node;
    };
  }

  @Override
  public synchronized void move(TreePath source, TreePath target) throws IOException {
    PathCopying.Moved<T, DirT> moved = edits.move(root, source, target);
    if (moved != null) {
      root = moved.tree();
      release(moved.replaced());
    }
  }

  @Override
  public synchronized void rename(TreePath source, TreePath target, Set<RenameOption> options)
      throws IOException {
    PathCopying.Moved<T, DirT> moved = edits.rename(root, source, target, options);
    if (moved != null) {
      root = moved.tree();
      release(moved.replaced());
    }
  }

  /**
   * Makes sure the regular file at {@code file} has a scratch file of its own holding its
   * current content (copied up from the lower tree, the store or a shared scratch file the first
   * time), marks the file changed and returns that scratch file. The caller reads, writes and
   * truncates it in place (random access, {@code FileChannel}); {@code stat}, {@code read} and
   * {@link #snapshot()} see its current bytes. The path stays the file's while the file is in
   * the tree (renames and moves included); once it is removed or replaced, the next snapshot or
   * {@link #close()} deletes it, so callers keep a channel open rather than the path.
   *
   * @throws IsDirectoryException if {@code file} is a directory
   * @throws FileSystemException if it is a symbolic link
   */
  public Path scratchFile(TreePath file) throws IOException {
    if (file.isRoot()) {
      throw new IsDirectoryException("");
    }
    while (true) {
      FileT f = regularFile(edits.resolve(root, file), file);
      if (f.live()) {
        return f.scratch();
      }
      // Copy up without the lock (the lower may fetch over the network), then place the copy
      // if the file is still the one copied; else start again.
      Path copy = Files.createTempFile(scratch, "rw-", "");
      boolean placed = false;
      try {
        try (InputStream in = open(f); OutputStream out = Files.newOutputStream(copy)) {
          in.transferTo(out);
        }
        synchronized (this) {
          T now = find(file);
          if (f.equals(now)) {
            root = edits.put(root, file, new FileT(-1, f.executable(), null, null, copy, true));
            scratchInTree.add(copy);
            placed = true;
            return copy;
          }
          if (now instanceof FileT n && n.live()) {
            return n.scratch();
          }
        }
      } finally {
        if (!placed) {
          Files.deleteIfExists(copy);
        }
      }
    }
  }

  /**
   * Deletes the live scratch files in a node just dropped from the tree (they are never shared;
   * a caller's open channel keeps working). Other scratch files may be shared by copies and wait
   * for the next snapshot.
   */
  private void release(T dropped) throws IOException {
    switch (dropped) {
      case FileT f when f.live() -> {
        Files.deleteIfExists(f.scratch());
        scratchInTree.remove(f.scratch());
        liveHashes.remove(f.scratch());
      }
      case DirT d when d.digest() == null && d.children() != null -> {
        for (T child : d.children().values()) {
          release(child);
        }
      }
      case null, default -> { }
    }
  }

  @Override
  public synchronized void remove(TreePath path, boolean recursive) throws IOException {
    PathCopying.requireNotRoot(path, "remove");
    T node = edits.resolve(root, path);
    if (node instanceof DirT d && !recursive && !children(d).isEmpty()) {
      throw new DirectoryNotEmptyException(path.toString());
    }
    root = edits.remove(root, path);
    release(node);
  }

  @Override
  public void importFrom(Path local, TreePath target) throws IOException {
    List<Path> copied = new ArrayList<>();
    boolean placed = false;
    try {
      T node = fromLocal(local, copied);
      Name name = local.getFileName() == null ? null : new Name(local.getFileName().toString());
      synchronized (this) {
        TreePath to = find(target) instanceof DirT && name != null ? target.resolve(name) : target;
        root = edits.place(root, to, node);
        scratchInTree.addAll(copied);
        placed = true;
      }
    } finally {
      if (!placed) {
        for (Path p : copied) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  /** The local file, symlink or tree as a node, its files copied into scratch ({@code copied}). */
  private T fromLocal(Path local, List<Path> copied) throws IOException {
    PosixFileAttributes attrs;
    try {
      attrs = Files.readAttributes(local, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (NoSuchFileException e) {
      throw new NoSuchFileException(local.toString());
    }
    if (attrs.isSymbolicLink()) {
      return new LinkT(Files.readSymbolicLink(local).toString());
    }
    if (attrs.isRegularFile()) {
      Path copy = Files.createTempFile(scratch, "import-", "");
      copied.add(copy);
      long size;
      try (InputStream in = Files.newInputStream(local, LinkOption.NOFOLLOW_LINKS);
          OutputStream out = Files.newOutputStream(copy)) {
        size = in.transferTo(out);
      }
      boolean exec = attrs.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
      return new FileT(size, exec, null, null, copy, false);
    }
    if (attrs.isDirectory()) {
      Map<Name, T> children = new TreeMap<>();
      try (DirectoryStream<Path> entries = Files.newDirectoryStream(local)) {
        for (Path entry : entries) {
          String problem = Name.problem(entry.getFileName().toString());
          if (problem != null) {
            throw new FileSystemException(entry.toString(), null, problem);
          }
          children.put(new Name(entry.getFileName().toString()), fromLocal(entry, copied));
        }
      }
      return new DirT(null, null, Collections.unmodifiableMap(children));
    }
    throw new FileSystemException(local.toString(), null, "not a file, directory or symlink");
  }

  @Override
  public void exportTo(TreePath source, Path local) throws IOException {
    T node = edits.resolve(root, source);
    if (Files.exists(local, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(local.toString());
    }
    export(node, local);
  }

  private void export(T node, Path local) throws IOException {
    switch (node) {
      case LinkT l -> Files.createSymbolicLink(local, Path.of(l.target()));
      case DirT d -> {
        Files.createDirectory(local);
        for (var e : children(d).entrySet()) {
          export(e.getValue(), local.resolve(e.getKey().value()));
        }
      }
      case FileT f -> {
        try (InputStream in = open(f)) {
          Files.copy(in, local);
        }
        Files.setPosixFilePermissions(local, PosixFilePermissions.fromString(
            f.executable() ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
  }

  // ------------------------------------------------------------------ snapshot

  /** Digests of scratch files stored by snapshots, for exports that raced a snapshot. */
  private final Map<Path, Digest> sealedDigests = new HashMap<>(); // guarded by this

  @Override
  public synchronized Digest snapshot() throws IOException {
    Map<Path, Digest> stored = new HashMap<>();
    Set<Path> live = new HashSet<>();
    Sealed sealed = seal(root, stored, live);
    root = sealed.node();
    for (Path p : scratchInTree) {
      if (!live.contains(p)) {
        Files.deleteIfExists(p);
      }
    }
    scratchInTree.retainAll(live);
    liveHashes.keySet().retainAll(live);
    sealedDigests.putAll(stored);
    return sealed.digest();
  }

  /**
   * A directory after a snapshot and its digest now. The node keeps a digest only if nothing
   * below it is live (a live file can change without the tree knowing).
   */
  private record Sealed(DirT node, Digest digest) {}

  /**
   * Gives every changed directory below {@code dir} its digest, storing what it refers to;
   * collects the live files' scratch paths in {@code live}.
   */
  private Sealed seal(DirT dir, Map<Path, Digest> stored, Set<Path> live) throws IOException {
    if (dir.digest() != null) {
      return new Sealed(dir, dir.digest());
    }
    boolean settled = true;
    Map<Name, T> sealed = new TreeMap<>();
    var b = build.bazel.remote.execution.v2.Directory.newBuilder();
    for (var e : children(dir).entrySet()) {
      String name = e.getKey().value();
      switch (e.getValue()) {
        case FileT f when f.live() -> {
          Digest digest = hashLive(f.scratch());
          b.addFiles(FileNode.newBuilder().setName(name).setDigest(digest.toProto())
              .setIsExecutable(f.executable()));
          sealed.put(e.getKey(), f);
          live.add(f.scratch());
          settled = false;
        }
        case FileT f -> {
          FileT s = f.digest() != null ? f : storeFile(f, stored);
          b.addFiles(FileNode.newBuilder().setName(name).setDigest(s.digest().toProto())
              .setIsExecutable(s.executable()));
          sealed.put(e.getKey(), s);
        }
        case LinkT l -> {
          b.addSymlinks(SymlinkNode.newBuilder().setName(name).setTarget(l.target()));
          sealed.put(e.getKey(), l);
        }
        case DirT d -> {
          Sealed s = seal(d, stored, live);
          b.addDirectories(DirectoryNode.newBuilder().setName(name).setDigest(s.digest().toProto()));
          sealed.put(e.getKey(), s.node());
          settled &= s.node().digest() != null;
        }
      }
    }
    Digest digest = store.put(MerkleCodec.encode(b.build()));
    return new Sealed(new DirT(settled ? digest : null, null, Collections.unmodifiableMap(sealed)), digest);
  }

  /** The identity and change times of a live file, as the kernel reports them. */
  private record Fingerprint(Object size, Object mtime, Object ctime, Object inode) {
    static Fingerprint of(Path file) throws IOException {
      Map<String, Object> a = Files.readAttributes(file, "unix:size,lastModifiedTime,ctime,ino");
      return new Fingerprint(a.get("size"), a.get("lastModifiedTime"), a.get("ctime"), a.get("ino"));
    }

    Instant changed() {
      return ((FileTime) ctime).toInstant();
    }
  }

  /** A live file's digest when it had {@code fingerprint}; {@code settled} if safe to reuse. */
  private record LiveHash(Fingerprint fingerprint, Digest digest, boolean settled) {}

  /**
   * A file's timestamps advance in steps of the kernel's clock tick: a file changed less than
   * this long before a hash began may change again without its timestamps moving.
   */
  private static final Duration RACY_WINDOW = Duration.ofSeconds(1);

  /**
   * The digest of a live file's current bytes, stored. Reused from the last snapshot if the
   * file's fingerprint is unchanged and the file had settled before that hash; else the file is
   * read once into a spool (hashing on the way) so that what is stored is what was hashed even
   * while a writer is busy. Compares file times with the real clock, as the kernel sets them.
   */
  private Digest hashLive(Path file) throws IOException {
    Fingerprint before = Fingerprint.of(file);
    LiveHash known = liveHashes.get(file);
    if (known != null && known.settled() && known.fingerprint().equals(before)) {
      return known.digest();
    }
    Instant start = Instant.now();
    Path spool = Files.createTempFile(scratch, "capture-", "");
    try {
      Hasher hasher = store.digestFunction().newHasher();
      try (InputStream in = Files.newInputStream(file); OutputStream out = Files.newOutputStream(spool)) {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = in.read(buffer)) >= 0; ) {
          hasher.update(buffer, 0, n);
          out.write(buffer, 0, n);
        }
      }
      Digest digest = hasher.finish();
      store.putFile(digest, spool);
      Fingerprint after = Fingerprint.of(file);
      boolean settled = before.equals(after) && after.changed().isBefore(start.minus(RACY_WINDOW));
      liveHashes.put(file, new LiveHash(after, digest, settled));
      return digest;
    } finally {
      Files.deleteIfExists(spool);
    }
  }

  /** Hashes and stores a file whose digest is unknown; a scratch file shared by copies once. */
  private FileT storeFile(FileT f, Map<Path, Digest> stored) throws IOException {
    if (f.scratch() != null) {
      Digest digest = stored.get(f.scratch());
      if (digest == null) {
        digest = hash(f.scratch());
        try (InputStream in = Files.newInputStream(f.scratch())) {
          store.put(digest, in);
        }
        stored.put(f.scratch(), digest);
      }
      return new FileT(f.size(), f.executable(), digest, null, null, false);
    }
    // A lower file whose backend does not know its digest: spool it once to hash and store it.
    Path spool = Files.createTempFile(scratch, "lower-", "");
    try {
      try (InputStream in = lower.read(f.lower())) {
        Files.copy(in, spool, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      }
      Digest digest = hash(spool);
      try (InputStream in = Files.newInputStream(spool)) {
        store.put(digest, in);
      }
      return new FileT(f.size(), f.executable(), digest, f.lower(), null, false);
    } finally {
      Files.deleteIfExists(spool);
    }
  }

  private Digest hash(Path file) throws IOException {
    Hasher hasher = store.digestFunction().newHasher();
    try (InputStream in = Files.newInputStream(file)) {
      byte[] buffer = new byte[64 * 1024];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        hasher.update(buffer, 0, n);
      }
    }
    return hasher.finish();
  }

  @Override
  public synchronized void close() throws IOException {
    for (Path p : scratchInTree) {
      Files.deleteIfExists(p);
    }
    scratchInTree.clear();
    liveHashes.clear();
  }

  // ------------------------------------------------------------------ the persistent tree

  private Map<Name, T> children(DirT dir) throws IOException {
    if (dir.children() != null) {
      return dir.children();
    }
    Map<Name, T> children = new TreeMap<>();
    for (Entry e : lower.list(dir.lower())) {
      children.put(e.name(), fromLower(e.node(), dir.lower().resolve(e.name())));
    }
    return Collections.unmodifiableMap(children);
  }

  /** A node of the lower tree, found at {@code at} there, as an untouched node of the overlay. */
  private static T fromLower(Node node, TreePath at) {
    return switch (node) {
      case Node.File f -> new FileT(f.size(), f.executable(), f.digest().orElse(null), at, null, false);
      case Node.Dir d -> new DirT(d.digest().orElse(null), at, null);
      case Node.Link l -> new LinkT(l.target());
    };
  }

  private T find(TreePath path) throws IOException {
    return find(root, path);
  }

  /**
   * The node at {@code path} in {@code tree}, or null; a non-directory on the way is an error.
   * Below a directory the overlay has not touched, the rest of the path is one {@code stat} of
   * the lower tree rather than a listing of each level.
   */
  private T find(DirT tree, TreePath path) throws IOException {
    T node = tree;
    TreePath walked = TreePath.ROOT;
    List<Name> names = path.names();
    for (int i = 0; i < names.size(); i++) {
      if (!(node instanceof DirT dir)) {
        throw new NotDirectoryException(walked.toString());
      }
      if (dir.children() == null) {
        TreePath at = dir.lower().resolve(new TreePath(names.subList(i, names.size())));
        try {
          return fromLower(lower.stat(at), at);
        } catch (NoSuchFileException e) {
          return null;
        } catch (NotDirectoryException e) {
          // The lower names its own path; walk level by level to name ours.
        }
      }
      Name n = names.get(i);
      node = children(dir).get(n);
      walked = walked.resolve(n);
      if (node == null) {
        return null;
      }
    }
    return node;
  }

}
