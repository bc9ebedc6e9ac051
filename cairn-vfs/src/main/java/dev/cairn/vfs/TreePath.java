package dev.cairn.vfs;

import dev.cairn.core.tree.Name;
import java.util.ArrayList;
import java.util.List;

/**
 * A path inside a tree, relative to its root: a list of validated {@link Name}s. The empty path
 * is the root. Parsing rejects absolute paths, empty components, {@code .} and {@code ..}, so a
 * {@code TreePath} can never point outside its tree.
 */
public record TreePath(List<Name> names) {
  public static final TreePath ROOT = new TreePath(List.of());

  public TreePath {
    names = List.copyOf(names);
  }

  /**
   * Parses {@code a/b/c} ({@code ""} is the root). A trailing slash is allowed.
   *
   * @throws IllegalArgumentException naming the path and the reason
   */
  public static TreePath parse(String text) {
    if (text.isEmpty()) {
      return ROOT;
    }
    if (text.startsWith("/")) {
      throw new IllegalArgumentException("path '" + text + "': must be relative to the tree's root");
    }
    String t = text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
    List<Name> names = new ArrayList<>();
    for (String part : t.split("/", -1)) {
      String problem = Name.problem(part);
      if (problem != null) {
        throw new IllegalArgumentException("path '" + text + "': " + problem);
      }
      names.add(new Name(part));
    }
    return new TreePath(names);
  }

  public boolean isRoot() {
    return names.isEmpty();
  }

  /** The parent path; the root has none. */
  public TreePath parent() {
    if (isRoot()) {
      throw new IllegalStateException("the root has no parent");
    }
    return new TreePath(names.subList(0, names.size() - 1));
  }

  /** The last component; the root has none. */
  public Name fileName() {
    if (isRoot()) {
      throw new IllegalStateException("the root has no name");
    }
    return names.getLast();
  }

  public TreePath resolve(Name name) {
    List<Name> n = new ArrayList<>(names);
    n.add(name);
    return new TreePath(n);
  }

  public TreePath resolve(TreePath other) {
    List<Name> n = new ArrayList<>(names);
    n.addAll(other.names);
    return new TreePath(n);
  }

  /** True if this path is {@code other} or lies below it. */
  public boolean startsWith(TreePath other) {
    return names.size() >= other.names.size()
        && names.subList(0, other.names.size()).equals(other.names);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    for (Name n : names) {
      if (!b.isEmpty()) {
        b.append('/');
      }
      b.append(n.value());
    }
    return b.toString();
  }
}
