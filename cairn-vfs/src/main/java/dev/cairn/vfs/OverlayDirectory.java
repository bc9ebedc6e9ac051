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
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
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
 * <p>The lower tree must not change while the overlay is in use, and the blobs its digests name
 * must be in {@code store} (as they are when the lower is a {@code CasDirectory} over the same
 * store): the snapshot refers to them without copying. The handle is thread-safe; each operation
 * is atomic. {@link #close()} deletes the scratch files still held; it does not close the lower.
 */
public final class OverlayDirectory implements Directory {

  private sealed interface T permits FileT, LinkT, DirT {}

  /**
   * A file. Its bytes are in the lower tree at {@code lower}, or in the scratch file {@code
   * scratch}, or (neither) in the store under {@code digest}. The digest is null until known.
   */
  private record FileT(long size, boolean executable, Digest digest, TreePath lower, Path scratch)
      implements T {
    FileT withExecutable(boolean exec) {
      return new FileT(size, exec, digest, lower, scratch);
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
  private DirT root; // guarded by this
  private final Set<Path> scratchInTree = new HashSet<>(); // guarded by this

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
  public synchronized Node stat(TreePath path) throws IOException {
    return toNode(resolve(path));
  }

  @Override
  public synchronized List<Entry> list(TreePath directory) throws IOException {
    if (!(resolve(directory) instanceof DirT dir)) {
      throw new NotDirectoryException(directory.toString());
    }
    List<Entry> entries = new ArrayList<>();
    for (var e : children(dir).entrySet()) {
      entries.add(new Entry(e.getKey(), toNode(e.getValue())));
    }
    return entries;
  }

  @Override
  public synchronized InputStream read(TreePath file) throws IOException {
    // Opened under the lock, so a snapshot cannot delete the scratch file in between.
    return switch (resolve(file)) {
      case FileT f -> open(f);
      case DirT d -> throw new FileSystemException(file.toString(), null, "is a directory");
      case LinkT l -> throw new FileSystemException(file.toString(), null, "is a symbolic link");
    };
  }

  private InputStream open(FileT f) throws IOException {
    if (f.scratch() != null) {
      return Files.newInputStream(f.scratch());
    }
    if (f.lower() != null) {
      return lower.read(f.lower());
    }
    return store.openRead(f.digest(), 0);
  }

  private static Node toNode(T node) {
    return switch (node) {
      case FileT f -> new Node.File(f.size(), f.executable(), Optional.ofNullable(f.digest()));
      case LinkT l -> new Node.Link(l.target());
      case DirT d -> new Node.Dir(Optional.ofNullable(d.digest()));
    };
  }

  // ------------------------------------------------------------------ writing

  @Override
  public void write(TreePath file, InputStream content) throws IOException {
    requireNotRoot(file, "write");
    Path spool = Files.createTempFile(scratch, "write-", "");
    boolean placed = false;
    try {
      long size;
      try (OutputStream out = Files.newOutputStream(spool)) {
        size = content.transferTo(out);
      }
      synchronized (this) {
        DirT parent = parentDir(file);
        T existing = children(parent).get(file.fileName());
        boolean exec = false;
        if (existing instanceof DirT) {
          throw new FileSystemException(file.toString(), null, "is a directory");
        } else if (existing instanceof LinkT) {
          throw new FileSystemException(file.toString(), null, "is a symbolic link");
        } else if (existing instanceof FileT f) {
          exec = f.executable();
        }
        root = put(root, file, new FileT(size, exec, null, null, spool));
        scratchInTree.add(spool);
        placed = true;
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
      parentDir(directory);
      root = put(root, directory, DirT.EMPTY);
      return;
    }
    DirT result = root;
    TreePath p = TreePath.ROOT;
    for (Name n : directory.names()) {
      p = p.resolve(n);
      T at = find(result, p);
      if (at == null) {
        result = put(result, p, DirT.EMPTY);
      } else if (!(at instanceof DirT)) {
        throw new NotDirectoryException(p.toString());
      }
    }
    root = result;
  }

  @Override
  public synchronized void symlink(String target, TreePath link) throws IOException {
    requireNotRoot(link, "create a symlink at");
    SymlinkTargets.requireStorable(target);
    if (children(parentDir(link)).containsKey(link.fileName())) {
      throw new FileAlreadyExistsException(link.toString());
    }
    root = put(root, link, new LinkT(target));
  }

  @Override
  public synchronized void setExecutable(TreePath file, boolean executable) throws IOException {
    if (!(resolve(file) instanceof FileT f)) {
      throw new FileSystemException(file.toString(), null, "not a regular file");
    }
    root = put(root, file, f.withExecutable(executable));
  }

  @Override
  public synchronized void copy(TreePath source, TreePath target) throws IOException {
    T node = resolve(source);
    TreePath to = intoIfDirectory(source, target);
    if (node instanceof DirT && to.startsWith(source)) {
      throw new FileSystemException(source.toString(), to.toString(), "cannot copy a directory into itself");
    }
    root = place(root, to, node);
  }

  @Override
  public synchronized void move(TreePath source, TreePath target) throws IOException {
    requireNotRoot(source, "move");
    T node = resolve(source);
    TreePath to = intoIfDirectory(source, target);
    if (to.equals(source)) {
      return;
    }
    if (node instanceof DirT && to.startsWith(source)) {
      throw new FileSystemException(source.toString(), to.toString(), "cannot move a directory into itself");
    }
    T existing = find(to);
    if (existing instanceof DirT d) {
      if (!(node instanceof DirT)) {
        throw new FileSystemException(to.toString(), null, "cannot overwrite directory with non-directory");
      }
      if (!children(d).isEmpty()) {
        throw new DirectoryNotEmptyException(to.toString());
      }
    } else if (existing != null && node instanceof DirT) {
      throw new FileSystemException(to.toString(), null, "cannot overwrite non-directory with directory");
    }
    parentDir(to);
    root = put(with(root, source, 0, null), to, node);
  }

  @Override
  public synchronized void remove(TreePath path, boolean recursive) throws IOException {
    requireNotRoot(path, "remove");
    if (resolve(path) instanceof DirT d && !recursive && !children(d).isEmpty()) {
      throw new DirectoryNotEmptyException(path.toString());
    }
    root = with(root, path, 0, null);
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
        root = place(root, to, node);
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
      return new FileT(size, exec, null, null, copy);
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
    T node;
    synchronized (this) {
      node = resolve(source);
    }
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
        Map<Name, T> children;
        synchronized (this) {
          children = children(d);
        }
        for (var e : children.entrySet()) {
          export(e.getValue(), local.resolve(e.getKey().value()));
        }
      }
      case FileT f -> {
        // A snapshot may have stored and deleted the scratch file since: fall back to the store.
        try (InputStream in = openForExport(f)) {
          Files.copy(in, local);
        }
        Files.setPosixFilePermissions(local, PosixFilePermissions.fromString(
            f.executable() ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
  }

  private synchronized InputStream openForExport(FileT f) throws IOException {
    if (f.scratch() != null && !Files.exists(f.scratch())) {
      return store.openRead(sealedDigests.get(f.scratch()), 0);
    }
    return open(f);
  }

  // ------------------------------------------------------------------ snapshot

  /** Digests of scratch files stored by snapshots, for exports that raced a snapshot. */
  private final Map<Path, Digest> sealedDigests = new HashMap<>(); // guarded by this

  @Override
  public synchronized Digest snapshot() throws IOException {
    Map<Path, Digest> stored = new HashMap<>();
    root = seal(root, stored);
    for (Path p : scratchInTree) {
      Files.deleteIfExists(p);
    }
    scratchInTree.clear();
    sealedDigests.putAll(stored);
    return root.digest();
  }

  /** Gives every changed directory below {@code dir} its digest, storing what it refers to. */
  private DirT seal(DirT dir, Map<Path, Digest> stored) throws IOException {
    if (dir.digest() != null) {
      return dir;
    }
    Map<Name, T> sealed = new TreeMap<>();
    var b = build.bazel.remote.execution.v2.Directory.newBuilder();
    for (var e : children(dir).entrySet()) {
      String name = e.getKey().value();
      switch (e.getValue()) {
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
          DirT s = seal(d, stored);
          b.addDirectories(DirectoryNode.newBuilder().setName(name).setDigest(s.digest().toProto()));
          sealed.put(e.getKey(), s);
        }
      }
    }
    Digest digest = store.put(MerkleCodec.encode(b.build()));
    return new DirT(digest, null, Collections.unmodifiableMap(sealed));
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
      return new FileT(f.size(), f.executable(), digest, null, null);
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
      return new FileT(f.size(), f.executable(), digest, f.lower(), null);
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
  }

  // ------------------------------------------------------------------ the persistent tree

  private Map<Name, T> children(DirT dir) throws IOException {
    if (dir.children() != null) {
      return dir.children();
    }
    Map<Name, T> children = new TreeMap<>();
    for (Entry e : lower.list(dir.lower())) {
      TreePath at = dir.lower().resolve(e.name());
      children.put(e.name(), switch (e.node()) {
        case Node.File f -> new FileT(f.size(), f.executable(), f.digest().orElse(null), at, null);
        case Node.Dir d -> new DirT(d.digest().orElse(null), at, null);
        case Node.Link l -> new LinkT(l.target());
      });
    }
    return Collections.unmodifiableMap(children);
  }

  private T find(TreePath path) throws IOException {
    return find(root, path);
  }

  /** The node at {@code path} in {@code tree}, or null; a non-directory on the way is an error. */
  private T find(DirT tree, TreePath path) throws IOException {
    T node = tree;
    TreePath walked = TreePath.ROOT;
    for (Name n : path.names()) {
      if (!(node instanceof DirT dir)) {
        throw new NotDirectoryException(walked.toString());
      }
      node = children(dir).get(n);
      walked = walked.resolve(n);
      if (node == null) {
        return null;
      }
    }
    return node;
  }

  private T resolve(TreePath path) throws IOException {
    T node = find(path);
    if (node == null) {
      throw new NoSuchFileException(path.toString());
    }
    return node;
  }

  private DirT parentDir(TreePath path) throws IOException {
    T parent = find(path.parent());
    if (parent == null) {
      throw new NoSuchFileException(path.parent().toString(), null, "parent directory does not exist");
    }
    if (!(parent instanceof DirT dir)) {
      throw new NotDirectoryException(path.parent().toString());
    }
    return dir;
  }

  /** cp/mv: an existing directory as target means "inside it, under the source's name". */
  private TreePath intoIfDirectory(TreePath source, TreePath target) throws IOException {
    if (source.isRoot() && target.isRoot()) {
      throw new FileSystemException("", null, "cannot copy the root onto itself");
    }
    if (!source.isRoot() && find(target) instanceof DirT) {
      return target.resolve(source.fileName());
    }
    return target;
  }

  /** {@code tree} with {@code node} at {@code path} as {@code cp -a} leaves it (directories merge). */
  private DirT place(DirT tree, TreePath path, T node) throws IOException {
    if (path.isRoot()) {
      if (!(node instanceof DirT nd)) {
        throw new FileSystemException("", null, "cannot overwrite directory with non-directory");
      }
      return merge(tree, nd);
    }
    T existing = find(tree, path);
    if (existing == null) {
      parentDir(path);
      return put(tree, path, node);
    }
    if (existing instanceof DirT ed) {
      if (!(node instanceof DirT nd)) {
        throw new FileSystemException(path.toString(), null, "cannot overwrite directory with non-directory");
      }
      return put(tree, path, merge(ed, nd));
    }
    if (node instanceof DirT) {
      throw new FileSystemException(path.toString(), null, "cannot overwrite non-directory with directory");
    }
    return put(tree, path, node);
  }

  /** {@code onto} with everything of {@code from} copied in, recursively. */
  private DirT merge(DirT onto, DirT from) throws IOException {
    Map<Name, T> result = new TreeMap<>(children(onto));
    for (var e : children(from).entrySet()) {
      T existing = result.get(e.getKey());
      T incoming = e.getValue();
      if (existing instanceof DirT ed && incoming instanceof DirT id) {
        result.put(e.getKey(), merge(ed, id));
      } else if (existing instanceof DirT) {
        throw new FileSystemException(e.getKey().value(), null, "cannot overwrite directory with non-directory");
      } else if (existing != null && incoming instanceof DirT) {
        throw new FileSystemException(e.getKey().value(), null, "cannot overwrite non-directory with directory");
      } else {
        result.put(e.getKey(), incoming);
      }
    }
    return new DirT(null, null, Collections.unmodifiableMap(result));
  }

  private DirT put(DirT tree, TreePath path, T node) throws IOException {
    return with(tree, path, 0, node);
  }

  /** {@code dir} with {@code node} (null: nothing) at {@code path}, copying the nodes on the path. */
  private DirT with(DirT dir, TreePath path, int depth, T node) throws IOException {
    Name name = path.names().get(depth);
    Map<Name, T> children = new TreeMap<>(children(dir));
    if (depth == path.names().size() - 1) {
      if (node == null) {
        children.remove(name);
      } else {
        children.put(name, node);
      }
    } else {
      if (!(children.get(name) instanceof DirT childDir)) {
        throw new NotDirectoryException(new TreePath(path.names().subList(0, depth + 1)).toString());
      }
      children.put(name, with(childDir, path, depth + 1, node));
    }
    return new DirT(null, null, Collections.unmodifiableMap(children));
  }

  private static void requireNotRoot(TreePath path, String what) throws FileSystemException {
    if (path.isRoot()) {
      throw new FileSystemException("", null, "cannot " + what + " the root");
    }
  }
}
