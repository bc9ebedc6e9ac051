package dev.cairn.vfs;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.InvalidTreeException;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.Name;
import dev.cairn.core.tree.SpecialFileException;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The {@link Directory} API over a real directory on disk, so that tools edit a checkout or an
 * output tree with exactly the semantics of {@link CasDirectory} (both run
 * {@code DirectoryContractTest}).
 *
 * <p><b>Resolution.</b> Paths are walked one component at a time through
 * {@link SecureDirectoryStream}s: each step is an {@code openat(O_NOFOLLOW)} relative to the
 * previous directory's descriptor, and entries are stat-ed ({@code fstatat}), opened, deleted and
 * renamed relative to their open parent. A symlink is never followed, not even in the middle of a
 * path, so nothing outside the root is reached through the tree. Java has no {@code mkdirat},
 * {@code symlinkat} or {@code readlinkat}: directories and symlinks are created, and link targets
 * read, by the absolute path of the already resolved parent. If another process replaces a
 * directory on that path by a symlink between the walk and the call, that one call can act
 * outside the root. Permission changes reopen the entry with {@code O_NOFOLLOW}. The root itself
 * is held open; it is resolved (symlinks included) once, when opened.
 *
 * <p><b>Atomicity.</b> Every precondition, including every conflict of a directory merge, is
 * checked before anything is changed. Written and copied files, symlinks and new directory trees
 * are built under a hidden temporary name ({@code .cairn-tmp-*}) in their target directory and
 * renamed into place, so a replaced file is never seen half written. A merge and a recursive
 * remove are sequences of such steps; an I/O error midway leaves part of the work done.
 *
 * <p>New files are mode 0644, executable ones 0755; directories get the process's default mode.
 * Devices, fifos and sockets are refused with a {@link SpecialFileException} naming the path.
 * Symlink targets must be stored verbatim, so targets that {@link Path} would normalise (doubled
 * or trailing slashes) are rejected. {@link #importFrom} reads a local path outside the tree.
 *
 * <p>The handle is thread-safe (operations are serialized); it does not guard against other
 * processes editing the same directory. This class is over 500 lines because the cp/mv/rm
 * semantics, the descriptor-relative walk and the import/export copies belong together.
 */
public final class OsDirectory implements Directory {
  private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;
  private static final Set<PosixFilePermission> FILE_MODE = PosixFilePermissions.fromString("rw-r--r--");
  private static final Set<PosixFilePermission> EXEC_MODE = PosixFilePermissions.fromString("rwxr-xr-x");
  private static final String TEMP_PREFIX = ".cairn-tmp-";
  /** The name by which a directory's own entry is reached from its descriptor (used for the root). */
  private static final String SELF = ".";

  private final Path root;
  private final BlobStore store;
  private final SecureDirectoryStream<Path> rootStream;

  private OsDirectory(Path root, BlobStore store, SecureDirectoryStream<Path> rootStream) {
    this.root = root;
    this.store = store;
    this.rootStream = rootStream;
  }

  /**
   * The tree rooted at {@code root}, an existing directory. {@code store} receives the blobs of
   * {@link #snapshot()} and is used for nothing else.
   */
  public static OsDirectory open(Path root, BlobStore store) throws IOException {
    Objects.requireNonNull(store, "store");
    if (!Files.isDirectory(root)) {
      throw Files.exists(root, NOFOLLOW)
          ? new NotDirectoryException(root.toString())
          : new NoSuchFileException(root.toString(), null, "no such directory");
    }
    Path real = root.toRealPath();
    return new OsDirectory(real, store, secure(Files.newDirectoryStream(real), real));
  }

  private static SecureDirectoryStream<Path> secure(DirectoryStream<Path> stream, Path path)
      throws IOException {
    if (stream instanceof SecureDirectoryStream<Path> s) {
      return s;
    }
    stream.close();
    throw new FileSystemException(path.toString(), null,
        "this platform offers no SecureDirectoryStream; cannot resolve paths without races");
  }

  // ------------------------------------------------------------------ open directories

  /**
   * An open directory and its absolute path (for the calls Java only offers by path); {@code shown}
   * is how errors name it (a tree path, or a local path for import and export).
   */
  private record Dir(SecureDirectoryStream<Path> stream, Path path, String shown) implements Closeable {

    /** The entry's attributes, not following a symlink; null if absent. */
    PosixFileAttributes stat(String name) throws IOException {
      try {
        return stream.getFileAttributeView(Path.of(name), PosixFileAttributeView.class, NOFOLLOW)
            .readAttributes();
      } catch (NoSuchFileException e) {
        return null;
      }
    }

    /** Opens a subdirectory with O_NOFOLLOW; a symlink or file there is NotDirectoryException. */
    Dir open(String name) throws IOException {
      String childShown = join(shown, name);
      try {
        return new Dir(stream.newDirectoryStream(Path.of(name), NOFOLLOW), path.resolve(name), childShown);
      } catch (NoSuchFileException | NotDirectoryException e) {
        throw e;
      } catch (FileSystemException e) {
        // ELOOP: it became a symlink since it was stat-ed.
        throw new NotDirectoryException(childShown);
      }
    }

    List<String> names() throws IOException {
      List<String> names = new ArrayList<>();
      try (SecureDirectoryStream<Path> s = stream.newDirectoryStream(Path.of(SELF), NOFOLLOW)) {
        for (Path p : s) {
          names.add(p.getFileName().toString());
        }
      }
      return names;
    }

    @Override
    public void close() throws IOException {
      stream.close();
    }
  }

  private static String join(String parent, String name) {
    return parent.isEmpty() ? name : parent + "/" + name;
  }

  private Dir openRoot() throws IOException {
    return new Dir(rootStream.newDirectoryStream(Path.of(SELF), NOFOLLOW), root, "");
  }

  private static Dir openLocal(Path dir) throws IOException {
    return new Dir(secure(Files.newDirectoryStream(dir), dir), dir, dir.toString());
  }

  /**
   * The directory at {@code path}, walked component by component; null if a component is
   * missing, {@link NotDirectoryException} naming the prefix if one is not a directory.
   */
  private Dir walk(TreePath path) throws IOException {
    Dir d = openRoot();
    for (Name n : path.names()) {
      Dir next;
      try {
        PosixFileAttributes a = d.stat(n.value());
        if (a == null) {
          return null;
        }
        if (!a.isDirectory()) {
          throw new NotDirectoryException(join(d.shown(), n.value()));
        }
        next = d.open(n.value());
      } finally {
        d.close();
      }
      d = next;
    }
    return d;
  }

  /** The existing parent directory of {@code path}, open. */
  private Dir parentDir(TreePath path) throws IOException {
    Dir parent = walk(path.parent());
    if (parent == null) {
      throw new NoSuchFileException(path.parent().toString(), null, "parent directory does not exist");
    }
    return parent;
  }

  /** An entry found by a walk: its open parent, its name there and its attributes (null if absent). */
  private record Found(Dir parent, String name, PosixFileAttributes attrs) implements Closeable {
    @Override
    public void close() throws IOException {
      if (parent != null) {
        parent.close();
      }
    }
  }

  /** As CasDirectory's find: absent is a null {@code attrs}; the root is the root's "." entry. */
  private Found find(TreePath path) throws IOException {
    if (path.isRoot()) {
      Dir r = openRoot();
      return new Found(r, SELF, r.stat(SELF));
    }
    Dir parent = walk(path.parent());
    if (parent == null) {
      return new Found(null, path.fileName().value(), null);
    }
    try {
      return new Found(parent, path.fileName().value(), parent.stat(path.fileName().value()));
    } catch (IOException | RuntimeException e) {
      parent.close();
      throw e;
    }
  }

  private Found resolve(TreePath path) throws IOException {
    Found f = find(path);
    if (f.attrs() == null) {
      f.close();
      throw new NoSuchFileException(path.toString());
    }
    return f;
  }

  // ------------------------------------------------------------------ reading

  @Override
  public synchronized Node stat(TreePath path) throws IOException {
    try (Found f = resolve(path)) {
      return toNode(f.parent(), f.name(), f.attrs());
    }
  }

  @Override
  public synchronized List<Entry> list(TreePath directory) throws IOException {
    try (Found f = resolve(directory)) {
      if (!f.attrs().isDirectory()) {
        throw new NotDirectoryException(directory.toString());
      }
      try (Dir d = f.name().equals(SELF) ? openRoot() : f.parent().open(f.name())) {
        List<Entry> entries = new ArrayList<>();
        for (String name : d.names()) {
          PosixFileAttributes a = d.stat(name);
          if (a != null) {
            entries.add(new Entry(validName(d, name), toNode(d, name, a)));
          }
        }
        entries.sort((x, y) -> x.name().compareTo(y.name()));
        return entries;
      }
    }
  }

  @Override
  public InputStream read(TreePath file) throws IOException {
    synchronized (this) {
      try (Found f = resolve(file)) {
        PosixFileAttributes a = f.attrs();
        if (a.isDirectory()) {
          throw new IsDirectoryException(file.toString());
        } else if (a.isSymbolicLink()) {
          throw new FileSystemException(file.toString(), null, "is a symbolic link");
        } else if (!a.isRegularFile()) {
          throw special(f.parent(), f.name());
        }
        return Channels.newInputStream(openRead(f.parent(), f.name()));
      }
    }
  }

  private Node toNode(Dir parent, String name, PosixFileAttributes a) throws IOException {
    if (a.isDirectory()) {
      return new Node.Dir(Optional.empty());
    } else if (a.isRegularFile()) {
      return new Node.File(a.size(), isExec(a), Optional.empty());
    } else if (a.isSymbolicLink()) {
      return new Node.Link(readLink(parent, name));
    }
    throw special(parent, name);
  }

  private static boolean isExec(PosixFileAttributes a) {
    return a.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
  }

  private static String readLink(Dir parent, String name) throws IOException {
    return Files.readSymbolicLink(parent.path().resolve(name)).toString();
  }

  private static SpecialFileException special(Dir parent, String name) {
    Path p = parent.path().resolve(name);
    String kind = "special file";
    try {
      kind = switch (((Integer) Files.getAttribute(p, "unix:mode", NOFOLLOW)) & 0170000) {
        case 0140000 -> "socket";
        case 0060000 -> "block device";
        case 0020000 -> "character device";
        case 0010000 -> "fifo";
        default -> "special file";
      };
    } catch (IOException | UnsupportedOperationException e) {
      // keep the generic word
    }
    return new SpecialFileException(p, kind);
  }

  private static Name validName(Dir dir, String name) throws InvalidTreeException {
    String problem = Name.problem(name);
    if (problem != null) {
      throw new InvalidTreeException(dir.path().resolve(name) + ": " + problem);
    }
    return new Name(name);
  }

  private static SeekableByteChannel openRead(Dir parent, String name) throws IOException {
    return parent.stream().newByteChannel(Path.of(name), Set.of(StandardOpenOption.READ, NOFOLLOW));
  }

  // ------------------------------------------------------------------ writing

  @Override
  public synchronized void write(TreePath file, InputStream content) throws IOException {
    requireNotRoot(file, "write");
    try (Dir parent = parentDir(file)) {
      String name = file.fileName().value();
      PosixFileAttributes a = parent.stat(name);
      boolean exec = false;
      if (a != null) {
        if (a.isDirectory()) {
          throw new IsDirectoryException(file.toString());
        } else if (a.isSymbolicLink()) {
          throw new FileSystemException(file.toString(), null, "is a symbolic link");
        } else if (!a.isRegularFile()) {
          throw special(parent, name);
        }
        exec = isExec(a);
      }
      String temp = tempName();
      try {
        createFile(parent, temp, content, exec);
        rename(parent, temp, parent, name);
      } catch (IOException | RuntimeException e) {
        deleteQuietly(parent, temp);
        throw e;
      }
    }
  }

  /** Creates the file {@code name} (which must not exist) with the bytes of {@code content}. */
  private static void createFile(Dir dir, String name, InputStream content, boolean exec)
      throws IOException {
    Set<OpenOption> options = Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW, NOFOLLOW);
    try (SeekableByteChannel ch = dir.stream().newByteChannel(Path.of(name), options,
            PosixFilePermissions.asFileAttribute(FILE_MODE));
        OutputStream out = Channels.newOutputStream(ch)) {
      content.transferTo(out);
    }
    setMode(dir, name, exec);
  }

  private static void setMode(Dir dir, String name, boolean exec) throws IOException {
    dir.stream().getFileAttributeView(Path.of(name), PosixFileAttributeView.class, NOFOLLOW)
        .setPermissions(exec ? EXEC_MODE : FILE_MODE);
  }

  private static String tempName() {
    return TEMP_PREFIX + Long.toHexString(ThreadLocalRandom.current().nextLong());
  }

  /** renameat: replaces a file, symlink or empty directory at the target. */
  private static void rename(Dir from, String fromName, Dir to, String toName) throws IOException {
    from.stream().move(Path.of(fromName), to.stream(), Path.of(toName));
  }

  @Override
  public synchronized void mkdir(TreePath directory, boolean parents) throws IOException {
    if (directory.isRoot()) {
      if (parents) {
        return;
      }
      throw new FileAlreadyExistsException("", null, "the root exists");
    }
    try (Found f = find(directory)) {
      if (f.attrs() != null) {
        if (parents && f.attrs().isDirectory()) {
          return;
        }
        throw new FileAlreadyExistsException(directory.toString());
      }
    }
    if (!parents) {
      try (Dir parent = parentDir(directory)) {
        Files.createDirectory(parent.path().resolve(directory.fileName().value()));
      }
      return;
    }
    Dir d = openRoot();
    try {
      for (Name n : directory.names()) {
        PosixFileAttributes a = d.stat(n.value());
        if (a == null) {
          Files.createDirectory(d.path().resolve(n.value()));
        } else if (!a.isDirectory()) {
          throw new NotDirectoryException(join(d.shown(), n.value()));
        }
        Dir next = d.open(n.value());
        d.close();
        d = next;
      }
    } finally {
      d.close();
    }
  }

  @Override
  public synchronized void symlink(String target, TreePath link) throws IOException {
    requireNotRoot(link, "create a symlink at");
    SymlinkTargets.requireStorable(target);
    try (Dir parent = parentDir(link)) {
      if (parent.stat(link.fileName().value()) != null) {
        throw new FileAlreadyExistsException(link.toString());
      }
      Files.createSymbolicLink(parent.path().resolve(link.fileName().value()), Path.of(target));
    }
  }

  @Override
  public synchronized void setExecutable(TreePath file, boolean executable) throws IOException {
    try (Found f = resolve(file)) {
      if (!f.attrs().isRegularFile()) {
        throw new FileSystemException(file.toString(), null, "not a regular file");
      }
      setMode(f.parent(), f.name(), executable);
    }
  }

  @Override
  public synchronized void copy(TreePath source, TreePath target) throws IOException {
    try (Found src = resolve(source)) {
      TreePath to = intoIfDirectory(source, target);
      if (src.attrs().isDirectory() && to.startsWith(source)) {
        throw new InvalidOperationException(source.toString(), to.toString(), "cannot copy a directory into itself");
      }
      if (to.equals(source)) {
        return; // a file or symlink copied onto itself
      }
      place(to, src.parent(), src.name(), src.attrs(), source.startsWith(to));
    }
  }

  @Override
  public synchronized void move(TreePath source, TreePath target) throws IOException {
    requireNotRoot(source, "move");
    try (Found src = resolve(source)) {
      boolean isDir = src.attrs().isDirectory();
      TreePath to = intoIfDirectory(source, target);
      if (to.equals(source)) {
        return;
      }
      if (isDir && to.startsWith(source)) {
        throw new InvalidOperationException(source.toString(), to.toString(), "cannot move a directory into itself");
      }
      try (Found dst = find(to)) {
        PosixFileAttributes existing = dst.attrs();
        if (existing != null && existing.isDirectory()) {
          if (!isDir) {
            throw new IsDirectoryException(to.toString(), "cannot overwrite directory with non-directory");
          }
          try (Dir d = dst.parent().open(dst.name())) {
            if (!d.names().isEmpty()) {
              throw new DirectoryNotEmptyException(to.toString());
            }
          }
        } else if (existing != null && isDir) {
          throw new FileSystemException(to.toString(), null, "cannot overwrite non-directory with directory");
        }
        try (Dir parent = parentDir(to)) {
          rename(src.parent(), src.name(), parent, to.fileName().value());
        }
      }
    }
  }

  /**
   * {@inheritDoc}
   *
   * <p>Here every check is made under this handle's lock and the change is one {@code renameat};
   * {@link RenameOption#EXCHANGE} is three renames through a hidden temporary name in the
   * source's directory (rolled back if one fails), so another process may briefly see it half
   * done. Java offers no {@code renameat2}.
   */
  @Override
  public synchronized void rename(TreePath source, TreePath target, Set<RenameOption> options)
      throws IOException {
    RenameRules.checkOptions(source, target, options);
    try (Dir from = parentDir(source); Dir to = parentDir(target)) {
      String name = source.fileName().value();
      String toName = target.fileName().value();
      PosixFileAttributes a = from.stat(name);
      if (a == null) {
        throw new NoSuchFileException(source.toString());
      }
      PosixFileAttributes existing = to.stat(toName);
      requireTreeKind(from, name, a);
      requireTreeKind(to, toName, existing);
      boolean proceed = RenameRules.check(source, a.isDirectory(), target, existing != null,
          existing != null && existing.isDirectory(), () -> {
            try (Dir d = to.open(toName)) {
              return d.names().isEmpty();
            }
          }, options);
      if (!proceed) {
        return;
      }
      if (!options.contains(RenameOption.EXCHANGE)) {
        rename(from, name, to, toName);
        return;
      }
      String temp = tempName();
      rename(from, name, from, temp);
      try {
        rename(to, toName, from, name);
      } catch (IOException | RuntimeException e) {
        undo(e, from, temp, from, name);
        throw e;
      }
      try {
        rename(from, temp, to, toName);
      } catch (IOException | RuntimeException e) {
        undo(e, from, name, to, toName);
        undo(e, from, temp, from, name);
        throw e;
      }
    }
  }

  /** Refuses devices, fifos and sockets, which no tree can hold; null (absent) passes. */
  private static void requireTreeKind(Dir parent, String name, PosixFileAttributes a)
      throws SpecialFileException {
    if (a != null && !a.isDirectory() && !a.isRegularFile() && !a.isSymbolicLink()) {
      throw special(parent, name);
    }
  }

  /** Renames back after a failed step; a failure here is added to the original one. */
  private static void undo(Exception failure, Dir from, String name, Dir to, String toName) {
    try {
      rename(from, name, to, toName);
    } catch (IOException | RuntimeException e) {
      failure.addSuppressed(e);
    }
  }

  @Override
  public synchronized void remove(TreePath path, boolean recursive) throws IOException {
    requireNotRoot(path, "remove");
    try (Found f = resolve(path)) {
      if (f.attrs().isDirectory() && !recursive) {
        try (Dir d = f.parent().open(f.name())) {
          if (!d.names().isEmpty()) {
            throw new DirectoryNotEmptyException(path.toString());
          }
        }
      }
      delete(f.parent(), f.name(), f.attrs());
    }
  }

  private static void delete(Dir parent, String name, PosixFileAttributes a) throws IOException {
    if (!a.isDirectory()) {
      parent.stream().deleteFile(Path.of(name));
      return;
    }
    try (Dir d = parent.open(name)) {
      for (String child : d.names()) {
        PosixFileAttributes ca = d.stat(child);
        if (ca != null) {
          delete(d, child, ca);
        }
      }
    }
    parent.stream().deleteDirectory(Path.of(name));
  }

  private static void deleteQuietly(Dir parent, String name) {
    try {
      PosixFileAttributes a = parent.stat(name);
      if (a != null) {
        delete(parent, name, a);
      }
    } catch (IOException e) {
      // the original failure matters more
    }
  }

  @Override
  public synchronized void importFrom(Path local, TreePath target) throws IOException {
    Path abs = local.toAbsolutePath();
    PosixFileAttributes a = Files.readAttributes(abs, PosixFileAttributes.class, NOFOLLOW);
    if (!a.isDirectory() && !a.isRegularFile() && !a.isSymbolicLink()) {
      throw new FileSystemException(local.toString(), null, "not a file, directory or symlink");
    }
    if (abs.getParent() == null || abs.getFileName() == null) {
      throw new IllegalArgumentException("cannot import the file system root " + local);
    }
    Name name = new Name(abs.getFileName().toString());
    TreePath to = target;
    try (Found existing = find(target)) {
      if (existing.attrs() != null && existing.attrs().isDirectory()) {
        to = target.resolve(name);
      }
    }
    try (Dir parent = openLocal(abs.getParent())) {
      place(to, parent, name.value(), a, false);
    }
  }

  @Override
  public synchronized void exportTo(TreePath source, Path local) throws IOException {
    try (Found src = resolve(source)) {
      if (Files.exists(local, NOFOLLOW)) {
        throw new FileAlreadyExistsException(local.toString());
      }
      Path abs = local.toAbsolutePath();
      if (abs.getParent() == null || abs.getFileName() == null) {
        throw new IllegalArgumentException("cannot export onto the file system root " + local);
      }
      checkSource(src.parent(), src.name(), src.attrs());
      try (Dir parent = openLocal(abs.getParent())) {
        if (parent.stat(abs.getFileName().toString()) != null) {
          throw new FileAlreadyExistsException(local.toString());
        }
        copyAtomically(src.parent(), src.name(), src.attrs(), parent, abs.getFileName().toString());
      }
    }
  }

  // ------------------------------------------------------------------ copying trees

  /** cp/mv: an existing directory as target means "inside it, under the source's name". */
  private TreePath intoIfDirectory(TreePath source, TreePath target) throws IOException {
    if (!source.isRoot()) {
      try (Found f = find(target)) {
        if (f.attrs() != null && f.attrs().isDirectory()) {
          return target.resolve(source.fileName());
        }
      }
    }
    if (source.isRoot() && target.isRoot()) {
      throw new FileSystemException("", null, "cannot copy the root onto itself");
    }
    return target;
  }

  /**
   * Copies the entry {@code name} of {@code src} to {@code to} as {@code cp -a} would: a new
   * name, a replaced file, or a merge into an existing directory. Every conflict is found before
   * anything changes. {@code overlaps}: {@code to} is an ancestor of the source, so a merge reads
   * from a staged copy rather than from directories it is writing to.
   */
  private void place(TreePath to, Dir src, String name, PosixFileAttributes a, boolean overlaps)
      throws IOException {
    if (to.isRoot() && !a.isDirectory()) {
      throw new IsDirectoryException("", "cannot overwrite directory with non-directory");
    }
    try (Found dst = find(to)) {
      PosixFileAttributes existing = dst.attrs();
      if (existing == null) {
        try (Dir parent = parentDir(to)) {
          checkSource(src, name, a);
          copyAtomically(src, name, a, parent, to.fileName().value());
        }
        return;
      }
      if (existing.isDirectory()) {
        if (!a.isDirectory()) {
          throw new IsDirectoryException(to.toString(), "cannot overwrite directory with non-directory");
        }
        try (Dir from = src.open(name); Dir onto = openDir(dst)) {
          checkMerge(from, onto);
          if (!overlaps) {
            merge(from, onto);
            return;
          }
          try (Dir stageParent = openRoot()) {
            String stage = tempName();
            try {
              copyTree(src, name, stageParent, stage);
              try (Dir staged = stageParent.open(stage)) {
                merge(staged, onto);
              }
            } finally {
              deleteQuietly(stageParent, stage);
            }
          }
        }
        return;
      }
      if (a.isDirectory()) {
        throw new FileSystemException(to.toString(), null, "cannot overwrite non-directory with directory");
      }
      checkSource(src, name, a);
      copyAtomically(src, name, a, dst.parent(), dst.name());
    }
  }

  private Dir openDir(Found f) throws IOException {
    return f.name().equals(SELF) ? openRoot() : f.parent().open(f.name());
  }

  /** Throws if the tree at {@code name} holds a special file or an invalid name. */
  private static void checkSource(Dir parent, String name, PosixFileAttributes a) throws IOException {
    if (a.isDirectory()) {
      try (Dir d = parent.open(name)) {
        for (String child : d.names()) {
          validName(d, child);
          PosixFileAttributes ca = d.stat(child);
          if (ca != null) {
            checkSource(d, child, ca);
          }
        }
      }
    } else if (!a.isRegularFile() && !a.isSymbolicLink()) {
      throw special(parent, name);
    }
  }

  /** Throws the error a merge of {@code from} into {@code onto} would meet, before any change. */
  private static void checkMerge(Dir from, Dir onto) throws IOException {
    for (String name : from.names()) {
      validName(from, name);
      PosixFileAttributes in = from.stat(name);
      if (in == null) {
        continue;
      }
      PosixFileAttributes there = onto.stat(name);
      String shown = join(onto.shown(), name);
      if (there != null && there.isDirectory() && in.isDirectory()) {
        try (Dir f = from.open(name); Dir o = onto.open(name)) {
          checkMerge(f, o);
        }
      } else if (there != null && there.isDirectory()) {
        throw new IsDirectoryException(shown, "cannot overwrite directory with non-directory");
      } else if (there != null && in.isDirectory()) {
        throw new FileSystemException(shown, null, "cannot overwrite non-directory with directory");
      } else {
        checkSource(from, name, in);
      }
    }
  }

  private static void merge(Dir from, Dir onto) throws IOException {
    for (String name : from.names()) {
      PosixFileAttributes in = from.stat(name);
      if (in == null) {
        continue;
      }
      PosixFileAttributes there = onto.stat(name);
      if (there != null && there.isDirectory() && in.isDirectory()) {
        try (Dir f = from.open(name); Dir o = onto.open(name)) {
          merge(f, o);
        }
      } else {
        copyAtomically(from, name, in, onto, name);
      }
    }
  }

  /** Copies to a temporary name in {@code to}, then renames it over {@code toName}. */
  private static void copyAtomically(Dir from, String name, PosixFileAttributes a, Dir to, String toName)
      throws IOException {
    String temp = tempName();
    try {
      copyNew(from, name, a, to, temp);
      rename(to, temp, to, toName);
    } catch (IOException | RuntimeException e) {
      deleteQuietly(to, temp);
      throw e;
    }
  }

  private static void copyTree(Dir from, String name, Dir to, String toName) throws IOException {
    PosixFileAttributes a = from.stat(name);
    if (a == null) {
      throw new NoSuchFileException(join(from.shown(), name));
    }
    copyNew(from, name, a, to, toName);
  }

  /** Copies a file, symlink or tree to {@code toName}, which must not exist. */
  private static void copyNew(Dir from, String name, PosixFileAttributes a, Dir to, String toName)
      throws IOException {
    if (a.isSymbolicLink()) {
      Files.createSymbolicLink(to.path().resolve(toName), Path.of(readLink(from, name)));
    } else if (a.isRegularFile()) {
      Set<OpenOption> options = Set.of(StandardOpenOption.WRITE, StandardOpenOption.CREATE_NEW, NOFOLLOW);
      try (SeekableByteChannel in = openRead(from, name);
          SeekableByteChannel out = to.stream().newByteChannel(Path.of(toName), options,
              PosixFilePermissions.asFileAttribute(FILE_MODE))) {
        transfer(in, out);
      }
      setMode(to, toName, isExec(a));
    } else if (a.isDirectory()) {
      Files.createDirectory(to.path().resolve(toName));
      try (Dir src = from.open(name); Dir dst = to.open(toName)) {
        for (String child : src.names()) {
          PosixFileAttributes ca = src.stat(child);
          if (ca != null) {
            copyNew(src, child, ca, dst, child);
          }
        }
      }
    } else {
      throw special(from, name);
    }
  }

  private static void transfer(SeekableByteChannel in, SeekableByteChannel out) throws IOException {
    if (in instanceof FileChannel fin) {
      long size = fin.size();
      for (long done = 0; done < size; ) {
        long n = fin.transferTo(done, size - done, out);
        if (n <= 0) {
          break;
        }
        done += n;
      }
      return;
    }
    Channels.newInputStream(in).transferTo(Channels.newOutputStream(out));
  }

  // ------------------------------------------------------------------ snapshot

  @Override
  public synchronized Digest snapshot() throws IOException {
    return new MerkleTreeBuilder(store).build(root).root();
  }

  @Override
  public synchronized void close() throws IOException {
    rootStream.close();
  }

  private static void requireNotRoot(TreePath path, String what) throws FileSystemException {
    if (path.isRoot()) {
      throw new FileSystemException("", null, "cannot " + what + " the root");
    }
  }
}
