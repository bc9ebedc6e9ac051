package dev.cairn.vfs;

import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.Hasher;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.Name;
import dev.cairn.core.tree.Progress;
import dev.cairn.core.tree.TreeExporter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * A Merkle tree in a {@link BlobStore}, edited without touching disk. Nodes are immutable and
 * loaded lazily, one Directory message at a time; an edit builds a new root by copying only the
 * nodes on the edited path, so copying or moving a subtree of any size shares it (O(depth)), and
 * {@link #snapshot()} writes Directory blobs only for directories that changed.
 *
 * <p>File contents written through the API are stored in the BlobStore at once (spooled through a
 * temp file to learn their digest). The handle is thread-safe; each operation is atomic.
 */
public final class CasDirectory implements Directory {

  /** A node of the persistent tree. */
  private sealed interface T permits FileT, LinkT, DirT {}

  private record FileT(Digest digest, boolean executable) implements T {}

  private record LinkT(String target) implements T {}

  /**
   * A directory: its digest if known (null after an edit, until the next snapshot) and its
   * children if loaded (null until first needed). At least one of the two is non-null.
   */
  private record DirT(Digest digest, Map<Name, T> children) implements T {
    static final DirT EMPTY = new DirT(null, Collections.emptyMap());
  }

  private final BlobStore store;
  private DirT root; // guarded by this
  /** Parsed Directory messages by digest: a path walked again is not read and parsed again. */
  private final Map<Digest, Map<Name, T>> loaded = new java.util.LinkedHashMap<>(256, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<Digest, Map<Name, T>> eldest) {
      return size() > 4096;
    }
  }; // guarded by this

  private CasDirectory(BlobStore store, DirT root) {
    this.store = Objects.requireNonNull(store, "store");
    this.root = root;
  }

  /** The tree with root digest {@code root}, loaded on demand from {@code store}. */
  public static CasDirectory open(BlobStore store, Digest root) {
    return new CasDirectory(store, new DirT(root, null));
  }

  /** A new, empty tree. */
  public static CasDirectory empty(BlobStore store) {
    return new CasDirectory(store, DirT.EMPTY);
  }

  // ------------------------------------------------------------------ reading

  @Override
  public synchronized Node stat(TreePath path) throws IOException {
    return toNode(resolve(path));
  }

  @Override
  public synchronized List<Entry> list(TreePath directory) throws IOException {
    T node = resolve(directory);
    if (!(node instanceof DirT dir)) {
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
    T node;
    synchronized (this) {
      node = resolve(file);
    }
    return switch (node) {
      case FileT f -> store.openRead(f.digest(), 0);
      case DirT d -> throw new IsDirectoryException(file.toString());
      case LinkT l -> throw new FileSystemException(file.toString(), null, "is a symbolic link");
    };
  }

  private static Node toNode(T node) {
    return switch (node) {
      case FileT f -> new Node.File(f.digest().sizeBytes(), f.executable(), Optional.of(f.digest()));
      case LinkT l -> new Node.Link(l.target());
      case DirT d -> new Node.Dir(Optional.ofNullable(d.digest()));
    };
  }

  // ------------------------------------------------------------------ writing

  @Override
  public void write(TreePath file, InputStream content) throws IOException {
    requireNotRoot(file, "write");
    Digest digest = storeContent(content);
    synchronized (this) {
      DirT parent = parentDir(file);
      T existing = children(parent).get(file.fileName());
      boolean exec = false;
      if (existing instanceof DirT) {
        throw new IsDirectoryException(file.toString());
      } else if (existing instanceof LinkT) {
        throw new FileSystemException(file.toString(), null, "is a symbolic link");
      } else if (existing instanceof FileT f) {
        exec = f.executable();
      }
      root = put(root, file, new FileT(digest, exec));
    }
  }

  /** Stores the bytes (spooled to a temp file to learn their digest) and returns their digest. */
  private Digest storeContent(InputStream content) throws IOException {
    Path temp = Files.createTempFile("cairn-vfs-", ".spool");
    try {
      Hasher hasher = store.digestFunction().newHasher();
      try (OutputStream out = Files.newOutputStream(temp)) {
        byte[] buffer = new byte[64 * 1024];
        for (int n; (n = content.read(buffer)) >= 0; ) {
          hasher.update(buffer, 0, n);
          out.write(buffer, 0, n);
        }
      }
      Digest digest = hasher.finish();
      store.putFile(digest, temp);
      return digest;
    } finally {
      Files.deleteIfExists(temp);
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
    if (parents) {
      TreePath p = TreePath.ROOT;
      for (Name n : directory.names()) {
        p = p.resolve(n);
        T at = find(p);
        if (at == null) {
          root = put(root, p, DirT.EMPTY);
        } else if (!(at instanceof DirT)) {
          throw new NotDirectoryException(p.toString());
        }
      }
      return;
    }
    parentDir(directory);
    root = put(root, directory, DirT.EMPTY);
  }

  @Override
  public synchronized void symlink(String target, TreePath link) throws IOException {
    requireNotRoot(link, "create a symlink at");
    SymlinkTargets.requireStorable(target);
    DirT parent = parentDir(link);
    if (children(parent).containsKey(link.fileName())) {
      throw new FileAlreadyExistsException(link.toString());
    }
    root = put(root, link, new LinkT(target));
  }

  @Override
  public synchronized void setExecutable(TreePath file, boolean executable) throws IOException {
    if (!(resolve(file) instanceof FileT f)) {
      throw new FileSystemException(file.toString(), null, "not a regular file");
    }
    root = put(root, file, new FileT(f.digest(), executable));
  }

  @Override
  public synchronized void copy(TreePath source, TreePath target) throws IOException {
    T node = resolve(source);
    TreePath to = intoIfDirectory(source, target);
    if (node instanceof DirT && to.startsWith(source)) {
      throw new InvalidOperationException(source.toString(), to.toString(), "cannot copy a directory into itself");
    }
    root = place(root, to, node, true);
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
      throw new InvalidOperationException(source.toString(), to.toString(), "cannot move a directory into itself");
    }
    T existing = find(to);
    if (existing instanceof DirT d) {
      if (!(node instanceof DirT)) {
        throw new IsDirectoryException(to.toString(), "cannot overwrite directory with non-directory");
      }
      if (!children(d).isEmpty()) {
        throw new DirectoryNotEmptyException(to.toString());
      }
    } else if (existing != null && node instanceof DirT) {
      throw new FileSystemException(to.toString(), null, "cannot overwrite non-directory with directory");
    }
    parentDir(to);
    DirT without = remove(root, source);
    root = put(without, to, node);
  }

  @Override
  public synchronized void rename(TreePath source, TreePath target, Set<RenameOption> options)
      throws IOException {
    RenameRules.checkOptions(source, target, options);
    parentDir(source);
    parentDir(target);
    T node = resolve(source);
    T existing = find(target);
    if (!RenameRules.check(source, node instanceof DirT, target, existing != null,
        existing instanceof DirT, () -> children((DirT) existing).isEmpty(), options)) {
      return;
    }
    if (options.contains(RenameOption.EXCHANGE)) {
      root = put(put(root, source, existing), target, node);
    } else {
      root = put(remove(root, source), target, node);
    }
  }

  @Override
  public synchronized void remove(TreePath path, boolean recursive) throws IOException {
    requireNotRoot(path, "remove");
    T node = resolve(path);
    if (node instanceof DirT d && !recursive && !children(d).isEmpty()) {
      throw new DirectoryNotEmptyException(path.toString());
    }
    root = remove(root, path);
  }

  @Override
  public synchronized void importFrom(Path local, TreePath target) throws IOException {
    T node;
    if (Files.isSymbolicLink(local)) {
      node = new LinkT(Files.readSymbolicLink(local).toString());
    } else if (Files.isDirectory(local, LinkOption.NOFOLLOW_LINKS)) {
      node = new DirT(new MerkleTreeBuilder(store).build(local).root(), null);
    } else if (Files.isRegularFile(local, LinkOption.NOFOLLOW_LINKS)) {
      Digest d;
      try (InputStream in = Files.newInputStream(local, LinkOption.NOFOLLOW_LINKS)) {
        d = storeContent(in);
      }
      node = new FileT(d, Files.isExecutable(local));
    } else if (!Files.exists(local, LinkOption.NOFOLLOW_LINKS)) {
      throw new NoSuchFileException(local.toString());
    } else {
      throw new FileSystemException(local.toString(), null, "not a file, directory or symlink");
    }
    Name name = local.getFileName() == null ? null : new Name(local.getFileName().toString());
    TreePath to = target;
    T existing = find(target);
    if (existing instanceof DirT && name != null) {
      to = target.resolve(name);
    }
    root = place(root, to, node, true);
  }

  @Override
  public void exportTo(TreePath source, Path local) throws IOException {
    T node;
    synchronized (this) {
      node = resolve(source);
      if (node instanceof DirT d && d.digest() == null) {
        snapshot();
        node = resolve(source);
      }
    }
    if (Files.exists(local, LinkOption.NOFOLLOW_LINKS)) {
      throw new FileAlreadyExistsException(local.toString());
    }
    switch (node) {
      case DirT d -> new TreeExporter(store, 4, Progress.NONE).export(d.digest(), local);
      case LinkT l -> Files.createSymbolicLink(local, Path.of(l.target()));
      case FileT f -> {
        try (InputStream in = store.openRead(f.digest(), 0)) {
          Files.copy(in, local);
        }
        Files.setPosixFilePermissions(local, java.nio.file.attribute.PosixFilePermissions.fromString(
            f.executable() ? "rwxr-xr-x" : "rw-r--r--"));
      }
    }
  }

  // ------------------------------------------------------------------ snapshot

  @Override
  public synchronized Digest snapshot() throws IOException {
    root = seal(root);
    return root.digest();
  }

  /** Gives every edited directory below (and including) {@code dir} its digest, storing it. */
  private DirT seal(DirT dir) throws IOException {
    if (dir.digest() != null) {
      return dir;
    }
    Map<Name, T> sealed = new TreeMap<>();
    build.bazel.remote.execution.v2.Directory.Builder b = build.bazel.remote.execution.v2.Directory.newBuilder();
    for (var e : dir.children().entrySet()) {
      String name = e.getKey().value();
      switch (e.getValue()) {
        case FileT f -> {
          b.addFiles(FileNode.newBuilder().setName(name).setDigest(f.digest().toProto())
              .setIsExecutable(f.executable()));
          sealed.put(e.getKey(), f);
        }
        case LinkT l -> {
          b.addSymlinks(SymlinkNode.newBuilder().setName(name).setTarget(l.target()));
          sealed.put(e.getKey(), l);
        }
        case DirT d -> {
          DirT s = seal(d);
          b.addDirectories(DirectoryNode.newBuilder().setName(name).setDigest(s.digest().toProto()));
          sealed.put(e.getKey(), s);
        }
      }
    }
    byte[] bytes = MerkleCodec.encode(b.build());
    Digest digest = store.put(bytes);
    return new DirT(digest, Collections.unmodifiableMap(sealed));
  }

  // ------------------------------------------------------------------ the persistent tree

  private Map<Name, T> children(DirT dir) throws IOException {
    if (dir.children() != null) {
      return dir.children();
    }
    Map<Name, T> cached = loaded.get(dir.digest());
    if (cached != null) {
      return cached;
    }
    build.bazel.remote.execution.v2.Directory message =
        MerkleCodec.parse(store.get(dir.digest()), "directory " + dir.digest());
    Map<Name, T> children = new TreeMap<>();
    for (FileNode f : message.getFilesList()) {
      children.put(new Name(f.getName()), new FileT(Digest.fromProto(f.getDigest()), f.getIsExecutable()));
    }
    for (DirectoryNode d : message.getDirectoriesList()) {
      children.put(new Name(d.getName()), new DirT(Digest.fromProto(d.getDigest()), null));
    }
    for (SymlinkNode s : message.getSymlinksList()) {
      children.put(new Name(s.getName()), new LinkT(s.getTarget()));
    }
    Map<Name, T> result = Collections.unmodifiableMap(children);
    loaded.put(dir.digest(), result);
    return result;
  }

  /** The node at {@code path}, or null if absent; a non-directory on the way is an error. */
  private T find(TreePath path) throws IOException {
    T node = root;
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
    if (!source.isRoot() && find(target) instanceof DirT) {
      return target.resolve(source.fileName());
    }
    if (source.isRoot() && target.isRoot()) {
      throw new FileSystemException("", null, "cannot copy the root onto itself");
    }
    return target;
  }

  /**
   * The tree with {@code node} at {@code path} as {@code cp -a} would leave it: a directory onto
   * a directory merges, a file replaces a file; mixing the two kinds is an error.
   */
  private DirT place(DirT tree, TreePath path, T node, boolean merge) throws IOException {
    if (path.isRoot()) {
      if (!(node instanceof DirT)) {
        throw new IsDirectoryException("", "cannot overwrite directory with non-directory");
      }
      return merge ? merge(tree, (DirT) node) : (DirT) node;
    }
    T existing = find(path);
    if (existing == null) {
      parentDir(path);
      return put(tree, path, node);
    }
    if (existing instanceof DirT ed) {
      if (!(node instanceof DirT nd)) {
        throw new IsDirectoryException(path.toString(), "cannot overwrite directory with non-directory");
      }
      return put(tree, path, merge(ed, nd));
    }
    if (node instanceof DirT) {
      throw new FileSystemException(path.toString(), null, "cannot overwrite non-directory with directory");
    }
    return put(tree, path, node);
  }

  /** {@code onto} with everything of {@code from} copied in, recursively (cp -a semantics). */
  private DirT merge(DirT onto, DirT from) throws IOException {
    Map<Name, T> result = new TreeMap<>(children(onto));
    for (var e : children(from).entrySet()) {
      T existing = result.get(e.getKey());
      T incoming = e.getValue();
      if (existing instanceof DirT ed && incoming instanceof DirT id) {
        result.put(e.getKey(), merge(ed, id));
      } else if (existing instanceof DirT && !(incoming instanceof DirT)) {
        throw new IsDirectoryException(e.getKey().value(), "cannot overwrite directory with non-directory");
      } else if (existing != null && !(existing instanceof DirT) && incoming instanceof DirT) {
        throw new FileSystemException(e.getKey().value(), null, "cannot overwrite non-directory with directory");
      } else {
        result.put(e.getKey(), incoming);
      }
    }
    return new DirT(null, Collections.unmodifiableMap(result));
  }

  /** The tree with {@code node} at {@code path} (whose parent exists), copying the path. */
  private DirT put(DirT dir, TreePath path, T node) throws IOException {
    return with(dir, path, 0, node);
  }

  private DirT remove(DirT dir, TreePath path) throws IOException {
    return with(dir, path, 0, null);
  }

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
      T child = children.get(name);
      if (!(child instanceof DirT childDir)) {
        throw new NotDirectoryException(new TreePath(path.names().subList(0, depth + 1)).toString());
      }
      children.put(name, with(childDir, path, depth + 1, node));
    }
    return new DirT(null, Collections.unmodifiableMap(children));
  }

  private static void requireNotRoot(TreePath path, String what) throws FileSystemException {
    if (path.isRoot()) {
      throw new FileSystemException("", null, "cannot " + what + " the root");
    }
  }
}
