package dev.cairn.vfs;

import dev.cairn.core.tree.Name;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Edits of an immutable tree by path copying, shared by {@link CasDirectory} and {@link
 * OverlayDirectory}: an edit at a path rebuilds only the directories on that path, so copying or
 * moving a subtree of any size costs its depth. The two backends differ in their nodes (what a
 * file is, how an untouched directory loads its children, how a path is looked up); the rules of
 * placing, merging ({@code cp -a}) and replacing nodes, and their errors, are the same and live
 * here.
 *
 * @param <T> the backend's node type
 * @param <D> its directory node type
 */
final class PathCopying<T, D extends T> {
  /** A directory's children, loading them if the backend has not yet. */
  @FunctionalInterface
  interface Children<T, D> {
    Map<Name, T> of(D dir) throws IOException;
  }

  /** The node at a path below a directory, or null if absent; a non-directory on the way is an error. */
  @FunctionalInterface
  interface Finder<T, D> {
    T find(D tree, TreePath path) throws IOException;
  }

  private final Class<D> dirType;
  private final Children<T, D> children;
  private final Function<Map<Name, T>, D> newDir;
  private final Finder<T, D> finder;

  /**
   * @param newDir makes a directory node of changed children (its digest unknown until sealed)
   */
  PathCopying(Class<D> dirType, Children<T, D> children, Function<Map<Name, T>, D> newDir,
      Finder<T, D> finder) {
    this.dirType = dirType;
    this.children = children;
    this.newDir = newDir;
    this.finder = finder;
  }

  T find(D tree, TreePath path) throws IOException {
    return finder.find(tree, path);
  }

  T resolve(D tree, TreePath path) throws IOException {
    T node = find(tree, path);
    if (node == null) {
      throw new NoSuchFileException(path.toString());
    }
    return node;
  }

  D parentDir(D tree, TreePath path) throws IOException {
    T parent = find(tree, path.parent());
    if (parent == null) {
      throw new NoSuchFileException(path.parent().toString(), null, "parent directory does not exist");
    }
    if (!dirType.isInstance(parent)) {
      throw new NotDirectoryException(path.parent().toString());
    }
    return dirType.cast(parent);
  }

  /** cp/mv: an existing directory as target means "inside it, under the source's name". */
  TreePath intoIfDirectory(D tree, TreePath source, TreePath target) throws IOException {
    if (source.isRoot() && target.isRoot()) {
      throw new FileSystemException("", null, "cannot copy the root onto itself");
    }
    if (!source.isRoot() && dirType.isInstance(find(tree, target))) {
      return target.resolve(source.fileName());
    }
    return target;
  }

  /**
   * {@code tree} with {@code node} at {@code path} as {@code cp -a} leaves it: a directory onto a
   * directory merges, anything else replaces what is there; a directory and a non-directory never
   * replace each other.
   */
  D place(D tree, TreePath path, T node) throws IOException {
    if (path.isRoot()) {
      if (!dirType.isInstance(node)) {
        throw new IsDirectoryException("", "cannot overwrite directory with non-directory");
      }
      return merge(tree, dirType.cast(node));
    }
    T existing = find(tree, path);
    if (existing == null) {
      parentDir(tree, path);
      return put(tree, path, node);
    }
    if (dirType.isInstance(existing)) {
      if (!dirType.isInstance(node)) {
        throw new IsDirectoryException(path.toString(), "cannot overwrite directory with non-directory");
      }
      return put(tree, path, merge(dirType.cast(existing), dirType.cast(node)));
    }
    if (dirType.isInstance(node)) {
      throw new FileSystemException(path.toString(), null, "cannot overwrite non-directory with directory");
    }
    return put(tree, path, node);
  }

  /** {@code onto} with everything of {@code from} copied in, recursively (cp -a semantics). */
  D merge(D onto, D from) throws IOException {
    Map<Name, T> result = new TreeMap<>(children.of(onto));
    for (var e : children.of(from).entrySet()) {
      T existing = result.get(e.getKey());
      T incoming = e.getValue();
      boolean existingDir = dirType.isInstance(existing);
      boolean incomingDir = dirType.isInstance(incoming);
      if (existingDir && incomingDir) {
        result.put(e.getKey(), merge(dirType.cast(existing), dirType.cast(incoming)));
      } else if (existingDir) {
        throw new IsDirectoryException(e.getKey().value(), "cannot overwrite directory with non-directory");
      } else if (existing != null && incomingDir) {
        throw new FileSystemException(e.getKey().value(), null, "cannot overwrite non-directory with directory");
      } else {
        result.put(e.getKey(), incoming);
      }
    }
    return newDir.apply(Collections.unmodifiableMap(result));
  }

  /** {@code tree} with {@code node} at {@code path} (whose parent exists), copying the path. */
  D put(D tree, TreePath path, T node) throws IOException {
    return with(tree, path, 0, node);
  }

  /** {@code tree} without the node at {@code path}, copying the path. */
  D remove(D tree, TreePath path) throws IOException {
    return with(tree, path, 0, null);
  }

  private D with(D dir, TreePath path, int depth, T node) throws IOException {
    Name name = path.names().get(depth);
    Map<Name, T> copy = new TreeMap<>(children.of(dir));
    if (depth == path.names().size() - 1) {
      if (node == null) {
        copy.remove(name);
      } else {
        copy.put(name, node);
      }
    } else {
      T child = copy.get(name);
      if (!dirType.isInstance(child)) {
        throw new NotDirectoryException(new TreePath(path.names().subList(0, depth + 1)).toString());
      }
      copy.put(name, with(dirType.cast(child), path, depth + 1, node));
    }
    return newDir.apply(Collections.unmodifiableMap(copy));
  }

  /** A move's result: the new tree, and the node it replaced at the target (null if none). */
  record Moved<T, D>(D tree, T replaced) {}

  /**
   * {@code mv SOURCE TARGET}: into {@code target} if it is a directory; a directory may replace
   * only an empty directory, a non-directory only a non-directory. Null if there is nothing to do
   * (moving onto itself).
   */
  Moved<T, D> move(D tree, TreePath source, TreePath target) throws IOException {
    requireNotRoot(source, "move");
    T node = resolve(tree, source);
    TreePath to = intoIfDirectory(tree, source, target);
    if (to.equals(source)) {
      return null;
    }
    boolean nodeIsDir = dirType.isInstance(node);
    if (nodeIsDir && to.startsWith(source)) {
      throw new InvalidOperationException(source.toString(), to.toString(), "cannot move a directory into itself");
    }
    T existing = find(tree, to);
    if (dirType.isInstance(existing)) {
      if (!nodeIsDir) {
        throw new IsDirectoryException(to.toString(), "cannot overwrite directory with non-directory");
      }
      if (!children.of(dirType.cast(existing)).isEmpty()) {
        throw new DirectoryNotEmptyException(to.toString());
      }
    } else if (existing != null && nodeIsDir) {
      throw new FileSystemException(to.toString(), null, "cannot overwrite non-directory with directory");
    }
    parentDir(tree, to);
    return new Moved<>(put(remove(tree, source), to, node), existing);
  }

  /**
   * {@code renameat2(2)} with {@code options} (see {@link RenameRules}); null if there is nothing
   * to do. An exchange replaces nothing.
   */
  Moved<T, D> rename(D tree, TreePath source, TreePath target, Set<RenameOption> options)
      throws IOException {
    RenameRules.checkOptions(source, target, options);
    parentDir(tree, source);
    parentDir(tree, target);
    T node = resolve(tree, source);
    T existing = find(tree, target);
    if (!RenameRules.check(source, dirType.isInstance(node), target, existing != null,
        dirType.isInstance(existing), () -> children.of(dirType.cast(existing)).isEmpty(), options)) {
      return null;
    }
    if (options.contains(RenameOption.EXCHANGE)) {
      return new Moved<>(put(put(tree, source, existing), target, node), null);
    }
    return new Moved<>(put(remove(tree, source), target, node), existing);
  }

  static void requireNotRoot(TreePath path, String what) throws FileSystemException {
    if (path.isRoot()) {
      throw new FileSystemException("", null, "cannot " + what + " the root");
    }
  }
}
