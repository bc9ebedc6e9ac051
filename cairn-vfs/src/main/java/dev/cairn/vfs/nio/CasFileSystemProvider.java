package dev.cairn.vfs.nio;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.vfs.CasDirectory;
import dev.cairn.vfs.Directory;
import dev.cairn.vfs.InvalidOperationException;
import dev.cairn.vfs.IsDirectoryException;
import dev.cairn.vfs.Node;
import dev.cairn.vfs.OverlayDirectory;
import dev.cairn.vfs.TreePath;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileStore;
import java.nio.file.FileSystemAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.FileSystemNotFoundException;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.spi.FileSystemProvider;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@code cas} URI scheme: {@code java.nio.file} over Cairn trees, translating each operation
 * to the {@link Directory} API of a {@link CasFileSystem} (an adapter: no tree logic lives here).
 *
 * <p>URIs: {@code cas:<hash>/<size>} names the tree with that root digest; {@code
 * FileSystems.newFileSystem(uri, env)} opens it with {@code env} key {@code store} (a {@link
 * BlobStore}, required) and optionally {@code scratch} (a {@code Path} or path string: the file
 * system is then writable, spooling new contents there). Such a file system is registered under
 * its digest until closed, so {@code cas:<hash>/<size>!/a/b} (what {@link CasPath#toUri()} gives)
 * finds {@code /a/b} in it through {@code Path.of(uri)}. File systems made by {@link
 * CasFileSystems} are not registered: any number may be open on one digest.
 *
 * <p>Where {@code java.nio.file} and the Directory API differ, the former wins at this boundary:
 * {@code copy} of a directory creates an empty directory, and {@code copy} and {@code move} fail
 * on an existing target without {@code REPLACE_EXISTING}. Symbolic links are never followed.
 */
public final class CasFileSystemProvider extends FileSystemProvider {

  public static final String SCHEME = "cas";

  private final Map<Digest, CasFileSystem> byUri = new ConcurrentHashMap<>();

  @Override
  public String getScheme() {
    return SCHEME;
  }

  // ------------------------------------------------------------------ file systems

  /** A file system over {@code root}; writable if {@code scratch} is not null. */
  CasFileSystem open(BlobStore store, Digest root, Path scratch, Runnable onClose)
      throws IOException {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(root, "root");
    CasDirectory tree = CasDirectory.open(store, root);
    if (scratch == null) {
      return new CasFileSystem(this, tree, root, null, onClose);
    }
    Directory overlay = OverlayDirectory.over(tree, store, scratch);
    return new CasFileSystem(this, overlay, root, scratch, onClose);
  }

  @Override
  public CasFileSystem newFileSystem(URI uri, Map<String, ?> env) throws IOException {
    Digest root = rootOf(uri);
    if (!(env.get("store") instanceof BlobStore store)) {
      throw new IllegalArgumentException(uri + ": env must map \"store\" to a BlobStore, got "
          + env.get("store"));
    }
    Path scratch = switch (env.get("scratch")) {
      case null -> null;
      case Path p -> p;
      case String s -> Path.of(s);
      case Object o -> throw new IllegalArgumentException(
          uri + ": env \"scratch\" must be a Path or a String, got " + o.getClass().getName());
    };
    synchronized (byUri) {
      if (byUri.containsKey(root)) {
        throw new FileSystemAlreadyExistsException(SCHEME + ":" + root);
      }
      CasFileSystem fs = open(store, root, scratch, () -> byUri.remove(root));
      byUri.put(root, fs);
      return fs;
    }
  }

  @Override
  public CasFileSystem getFileSystem(URI uri) {
    CasFileSystem fs = byUri.get(rootOf(uri));
    if (fs == null) {
      throw new FileSystemNotFoundException(uri.toString());
    }
    return fs;
  }

  /** {@code cas:<hash>/<size>!/a/b}: the path {@code /a/b} of the registered file system. */
  @Override
  public CasPath getPath(URI uri) {
    String ssp = uri.getSchemeSpecificPart();
    int bang = ssp.indexOf('!');
    return getFileSystem(uri).getPath(bang < 0 ? "/" : ssp.substring(bang + 1));
  }

  private static Digest rootOf(URI uri) {
    if (!SCHEME.equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException("'" + uri + "': scheme is not " + SCHEME);
    }
    String ssp = uri.getSchemeSpecificPart();
    int bang = ssp.indexOf('!');
    try {
      return Digest.parse(bang < 0 ? ssp : ssp.substring(0, bang));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'" + uri + "': expected cas:<hash>/<size>: "
          + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------ reading

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options,
      FileAttribute<?>... attrs) throws IOException {
    CasPath p = cas(path);
    if (!options.contains(StandardOpenOption.WRITE)
        && !options.contains(StandardOpenOption.APPEND)) {
      Node.File file = regularFile(p);
      return new ReadChannel(p.getFileSystem().directory(), p.treePath(), file.size());
    }
    return openForWriting(p, options, attrs);
  }

  @Override
  public InputStream newInputStream(Path path, OpenOption... options) throws IOException {
    for (OpenOption o : options) {
      if (o == StandardOpenOption.WRITE || o == StandardOpenOption.APPEND) {
        throw new IllegalArgumentException("option " + o + " is not for reading");
      }
    }
    CasPath p = cas(path);
    regularFile(p);
    return p.getFileSystem().directory().read(p.treePath());
  }

  /** The file {@code p} names; a directory or symlink is an error (links are not followed). */
  private static Node.File regularFile(CasPath p) throws IOException {
    return switch (p.getFileSystem().directory().stat(p.treePath())) {
      case Node.File f -> f;
      case Node.Dir d -> throw new IsDirectoryException(p.toString());
      case Node.Link l -> throw new FileSystemException(
          p.toString(), null, "is a symbolic link (links are not followed)");
    };
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir,
      DirectoryStream.Filter<? super Path> filter) throws IOException {
    CasPath p = cas(dir);
    List<Path> entries = new ArrayList<>();
    for (var e : p.getFileSystem().directory().list(p.treePath())) {
      Path child = p.resolve(e.name().value());
      if (filter.accept(child)) {
        entries.add(child);
      }
    }
    return new DirectoryStream<>() {
      private boolean iterated;

      @Override
      public Iterator<Path> iterator() {
        if (iterated) {
          throw new IllegalStateException(dir + ": a directory stream is iterated once");
        }
        iterated = true;
        return entries.iterator();
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public Path readSymbolicLink(Path link) throws IOException {
    CasPath p = cas(link);
    if (!(p.getFileSystem().directory().stat(p.treePath()) instanceof Node.Link l)) {
      throw new NotLinkException(p.toString());
    }
    return p.getFileSystem().getPath(l.target());
  }

  @Override
  public boolean isSameFile(Path path, Path path2) throws IOException {
    if (path.equals(path2)) {
      return true;
    }
    if (!(path instanceof CasPath a) || !(path2 instanceof CasPath b)
        || a.getFileSystem() != b.getFileSystem()) {
      return false;
    }
    return a.treePath().equals(b.treePath());
  }

  @Override
  public boolean isHidden(Path path) {
    CasPath name = cas(path).getFileName();
    return name != null && name.toString().startsWith(".");
  }

  @Override
  public FileStore getFileStore(Path path) throws IOException {
    checkAccess(path);
    return new CasFileStore(cas(path).getFileSystem());
  }

  /** Existence; WRITE on a read-only file system and EXECUTE on a plain file are denied. */
  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    CasPath p = cas(path);
    Node node = p.getFileSystem().directory().stat(p.treePath());
    for (AccessMode mode : modes) {
      if (mode == AccessMode.WRITE && p.getFileSystem().isReadOnly()) {
        throw new AccessDeniedException(p.toString(), null, "read-only file system");
      }
      if (mode == AccessMode.EXECUTE && node instanceof Node.File f && !f.executable()) {
        throw new AccessDeniedException(p.toString(), null, "not executable");
      }
    }
  }

  @Override
  @SuppressWarnings("unchecked")
  public <V extends FileAttributeView> V getFileAttributeView(Path path, Class<V> type,
      LinkOption... options) {
    return type.isAssignableFrom(CasAttributes.View.class)
        ? (V) new CasAttributes.View(cas(path)) : null;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type,
      LinkOption... options) throws IOException {
    if (!type.isAssignableFrom(CasAttributes.class)) {
      throw new UnsupportedOperationException("attributes " + type.getName());
    }
    CasPath p = cas(path);
    return (A) new CasAttributes(p.getFileSystem().directory().stat(p.treePath()));
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options)
      throws IOException {
    CasPath p = cas(path);
    return new CasAttributes(p.getFileSystem().directory().stat(p.treePath())).read(attributes);
  }

  /** Only {@code posix:permissions}, for a file's executable bit. */
  @Override
  @SuppressWarnings("unchecked")
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options)
      throws IOException {
    if (!attribute.equals("posix:permissions")) {
      throw new UnsupportedOperationException(path + ": cannot set attribute '" + attribute + "'");
    }
    new CasAttributes.View(cas(path)).setPermissions((Set<PosixFilePermission>) value);
  }

  // ------------------------------------------------------------------ writing

  private static SeekableByteChannel openForWriting(CasPath p, Set<? extends OpenOption> options,
      FileAttribute<?>... attrs) throws IOException {
    CasFileSystem fs = p.getFileSystem();
    fs.checkWritable();
    noAttributes(p, attrs);
    if (options.contains(StandardOpenOption.DELETE_ON_CLOSE)) {
      throw new UnsupportedOperationException(p + ": DELETE_ON_CLOSE");
    }
    Directory dir = fs.directory();
    TreePath tp = p.treePath();
    if (tp.isRoot()) {
      throw new IsDirectoryException(p.toString());
    }
    Node existing = find(dir, tp);
    switch (existing) {
      case null -> {
        if (!options.contains(StandardOpenOption.CREATE)
            && !options.contains(StandardOpenOption.CREATE_NEW)) {
          throw new NoSuchFileException(p.toString());
        }
        if (!(dir.stat(tp.parent()) instanceof Node.Dir)) {
          throw new NotDirectoryException(p.getParent().toString());
        }
      }
      case Node.Dir d -> throw new IsDirectoryException(p.toString());
      case Node.Link l -> throw new FileSystemException(
          p.toString(), null, "is a symbolic link (links are not followed)");
      case Node.File f -> {
        if (options.contains(StandardOpenOption.CREATE_NEW)) {
          throw new FileAlreadyExistsException(p.toString());
        }
      }
    }
    boolean append = options.contains(StandardOpenOption.APPEND);
    boolean keep = existing != null
        && (append || !options.contains(StandardOpenOption.TRUNCATE_EXISTING));
    return SpoolChannel.open(dir, tp, fs.spool(), keep ? dir.read(tp) : null, append);
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    CasPath p = cas(dir);
    p.getFileSystem().checkWritable();
    noAttributes(p, attrs);
    p.getFileSystem().directory().mkdir(p.treePath(), false);
  }

  /** The link's target is stored verbatim: {@code target.toString()}, never resolved. */
  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs)
      throws IOException {
    CasPath p = cas(link);
    p.getFileSystem().checkWritable();
    noAttributes(p, attrs);
    p.getFileSystem().directory().symlink(target.toString(), p.treePath());
  }

  @Override
  public void delete(Path path) throws IOException {
    CasPath p = cas(path);
    p.getFileSystem().checkWritable();
    p.getFileSystem().directory().remove(p.treePath(), false);
  }

  /**
   * As {@code Files.copy} specifies: a directory is copied empty, an existing target is an error
   * unless {@code REPLACE_EXISTING} (then a non-empty directory is). A symlink is copied as a
   * symlink, and the executable bit is always kept.
   */
  @Override
  public void copy(Path source, Path target, CopyOption... options) throws IOException {
    CasPath s = cas(source);
    CasPath t = cas(target);
    CasFileSystem fs = sameFileSystem(s, t);
    fs.checkWritable();
    Directory dir = fs.directory();
    synchronized (fs) {
      TreePath from = s.treePath();
      TreePath to = t.treePath();
      Node node = dir.stat(from);
      if (from.equals(to)) {
        return;
      }
      clearTarget(dir, t, to, node, options);
      if (node instanceof Node.Dir) {
        dir.mkdir(to, false);
      } else {
        dir.copy(from, to);
      }
    }
  }

  /** As {@code Files.move} specifies; directories move with their contents. */
  @Override
  public void move(Path source, Path target, CopyOption... options) throws IOException {
    CasPath s = cas(source);
    CasPath t = cas(target);
    CasFileSystem fs = sameFileSystem(s, t);
    fs.checkWritable();
    Directory dir = fs.directory();
    synchronized (fs) {
      TreePath from = s.treePath();
      TreePath to = t.treePath();
      Node node = dir.stat(from);
      if (from.equals(to)) {
        return;
      }
      if (node instanceof Node.Dir && to.startsWith(from)) {
        throw new InvalidOperationException(s.toString(), t.toString(), "cannot move a directory into itself");
      }
      clearTarget(dir, t, to, node, options);
      dir.move(from, to);
    }
  }

  /**
   * Makes room at {@code to} for a copy or move of {@code node}: an error if something is there
   * without {@code REPLACE_EXISTING}; else a directory there (empty, or an error) is removed, and
   * a file or symlink is too unless the Directory replaces it itself (a file over a file).
   */
  private static void clearTarget(Directory dir, CasPath t, TreePath to, Node node,
      CopyOption... options) throws IOException {
    Node existing = find(dir, to);
    if (existing == null) {
      return;
    }
    if (!Arrays.asList(options).contains(StandardCopyOption.REPLACE_EXISTING)) {
      throw new FileAlreadyExistsException(t.toString());
    }
    if (to.isRoot()) {
      throw new FileSystemException("/", null, "cannot replace the root");
    }
    if (existing instanceof Node.Dir && !dir.list(to).isEmpty()) {
      throw new DirectoryNotEmptyException(t.toString());
    }
    if (existing instanceof Node.Dir || node instanceof Node.Dir) {
      dir.remove(to, false);
    }
  }

  // ------------------------------------------------------------------ helpers

  /** The node at {@code path}, or null if nothing is there (a file mid-path is still an error). */
  private static Node find(Directory dir, TreePath path) throws IOException {
    try {
      return dir.stat(path);
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  private static CasPath cas(Path path) {
    if (!(Objects.requireNonNull(path, "path") instanceof CasPath p)) {
      throw new ProviderMismatchException("'" + path + "' is not a path of a CAS file system");
    }
    return p;
  }

  private static CasFileSystem sameFileSystem(CasPath a, CasPath b) {
    if (a.getFileSystem() != b.getFileSystem()) {
      throw new ProviderMismatchException(
          "'" + a + "' and '" + b + "' are in different CAS file systems");
    }
    return a.getFileSystem();
  }

  private static void noAttributes(CasPath p, FileAttribute<?>... attrs) {
    if (attrs.length > 0) {
      throw new UnsupportedOperationException(
          p + ": cannot set attribute '" + attrs[0].name() + "' at creation");
    }
  }
}
