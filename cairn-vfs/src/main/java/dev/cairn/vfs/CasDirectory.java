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

  private final PathCopying<T, DirT> edits =
      new PathCopying<>(DirT.class, this::children, c -> new DirT(null, c), this::find);

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
    return toNode(edits.resolve(root, path));
  }

  @Override
  public synchronized List<Entry> list(TreePath directory) throws IOException {
    T node = edits.resolve(root, directory);
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
      node = edits.resolve(root, file);
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
    PathCopying.requireNotRoot(file, "write");
    Digest digest = storeContent(content);
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
      root = edits.put(root, file, new FileT(digest, exec));
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
          root = edits.put(root, p, DirT.EMPTY);
        } else if (!(at instanceof DirT)) {
          throw new NotDirectoryException(p.toString());
        }
      }
      return;
    }
    edits.parentDir(root, directory);
    root = edits.put(root, directory, DirT.EMPTY);
  }

  @Override
  public synchronized void symlink(String target, TreePath link) throws IOException {
    PathCopying.requireNotRoot(link, "create a symlink at");
    SymlinkTargets.requireStorable(target);
    DirT parent = edits.parentDir(root, link);
    if (children(parent).containsKey(link.fileName())) {
      throw new FileAlreadyExistsException(link.toString());
    }
    root = edits.put(root, link, new LinkT(target));
  }

  @Override
  public synchronized void setExecutable(TreePath file, boolean executable) throws IOException {
    if (!(edits.resolve(root, file) instanceof FileT f)) {
      throw new FileSystemException(file.toString(), null, "not a regular file");
    }
    root = edits.put(root, file, new FileT(f.digest(), executable));
  }

  @Override
  public synchronized void copy(TreePath source, TreePath target) throws IOException {
    T node = edits.resolve(root, source);
    TreePath to = edits.intoIfDirectory(root, source, target);
    if (node instanceof DirT && to.startsWith(source)) {
      throw new InvalidOperationException(source.toString(), to.toString(), "cannot copy a directory into itself");
    }
    root = edits.place(root, to, node);
  }

  @Override
  public synchronized void move(TreePath source, TreePath target) throws IOException {
    PathCopying.Moved<T, DirT> moved = edits.move(root, source, target);
    if (moved != null) {
      root = moved.tree();
    }
  }

  @Override
  public synchronized void rename(TreePath source, TreePath target, Set<RenameOption> options)
      throws IOException {
    PathCopying.Moved<T, DirT> moved = edits.rename(root, source, target, options);
    if (moved != null) {
      root = moved.tree();
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
    root = edits.place(root, to, node);
  }

  @Override
  public void exportTo(TreePath source, Path local) throws IOException {
    T node;
    synchronized (this) {
      node = edits.resolve(root, source);
      if (node instanceof DirT d && d.digest() == null) {
        snapshot();
        node = edits.resolve(root, source);
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

  /** The node at {@code path} below {@code tree}, or null; a non-directory on the way is an error. */
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

  private T find(TreePath path) throws IOException {
    return find(root, path);
  }
}
