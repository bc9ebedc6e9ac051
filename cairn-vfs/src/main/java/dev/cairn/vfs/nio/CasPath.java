package dev.cairn.vfs.nio;

import dev.cairn.core.tree.Name;
import dev.cairn.vfs.TreePath;
import java.io.IOException;
import java.net.URI;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.ProviderMismatchException;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A path of a {@link CasFileSystem}: Unix syntax, {@code /} the tree's root. It is pure syntax
 * ({@code .} and {@code ..} are kept until {@link #normalize()}), so that code written for the
 * default file system manipulates it as usual; every file operation goes through {@link
 * #treePath()}, which normalizes the absolute path and so can never leave the tree ({@code /..}
 * is {@code /}). Immutable and thread-safe.
 */
public final class CasPath implements Path {

  private final CasFileSystem fs;
  private final boolean absolute;
  private final List<String> names; // neither empty nor containing '/'; "." and ".." allowed

  private CasPath(CasFileSystem fs, boolean absolute, List<String> names) {
    this.fs = fs;
    this.absolute = absolute;
    this.names = List.copyOf(names);
  }

  /**
   * Parses {@code text}: empty components (repeated and trailing slashes) are dropped.
   *
   * @throws InvalidPathException naming the text if a component is not a valid {@link Name}
   */
  static CasPath parse(CasFileSystem fs, String text) {
    List<String> names = new ArrayList<>();
    for (String part : text.split("/")) {
      if (part.isEmpty() || part.equals(".") || part.equals("..")) {
        if (!part.isEmpty()) {
          names.add(part);
        }
        continue;
      }
      String problem = Name.problem(part);
      if (problem != null) {
        throw new InvalidPathException(text, problem);
      }
      names.add(part);
    }
    return new CasPath(fs, text.startsWith("/"), names);
  }

  /**
   * The node this path names in the tree: the absolute path, normalized, with {@code ..} at the
   * root staying at the root.
   */
  public TreePath treePath() {
    List<Name> resolved = new ArrayList<>();
    for (String n : names) {
      if (n.equals("..")) {
        if (!resolved.isEmpty()) {
          resolved.removeLast();
        }
      } else if (!n.equals(".")) {
        resolved.add(new Name(n));
      }
    }
    return new TreePath(resolved);
  }

  static CasPath of(CasFileSystem fs, TreePath path) {
    return new CasPath(fs, true, path.names().stream().map(Name::value).toList());
  }

  @Override
  public CasFileSystem getFileSystem() {
    return fs;
  }

  @Override
  public boolean isAbsolute() {
    return absolute;
  }

  @Override
  public CasPath getRoot() {
    return absolute ? new CasPath(fs, true, List.of()) : null;
  }

  @Override
  public CasPath getFileName() {
    if (names.isEmpty()) {
      return absolute ? null : this;
    }
    return new CasPath(fs, false, List.of(names.getLast()));
  }

  @Override
  public CasPath getParent() {
    if (names.isEmpty() || (!absolute && names.size() == 1)) {
      return null;
    }
    return new CasPath(fs, absolute, names.subList(0, names.size() - 1));
  }

  @Override
  public int getNameCount() {
    return absolute || !names.isEmpty() ? names.size() : 1;
  }

  @Override
  public CasPath getName(int index) {
    if (!absolute && names.isEmpty() && index == 0) {
      return this;
    }
    Objects.checkIndex(index, names.size());
    return new CasPath(fs, false, List.of(names.get(index)));
  }

  @Override
  public CasPath subpath(int beginIndex, int endIndex) {
    if (beginIndex < 0 || endIndex > names.size() || beginIndex >= endIndex) {
      throw new IllegalArgumentException(
          "subpath(" + beginIndex + ", " + endIndex + ") of '" + this + "'");
    }
    return new CasPath(fs, false, names.subList(beginIndex, endIndex));
  }

  @Override
  public boolean startsWith(Path other) {
    if (!(other instanceof CasPath o) || o.fs != fs || o.absolute != absolute) {
      return false;
    }
    if (!o.absolute && o.names.isEmpty()) {
      return names.isEmpty();
    }
    return names.size() >= o.names.size() && names.subList(0, o.names.size()).equals(o.names);
  }

  @Override
  public boolean endsWith(Path other) {
    if (!(other instanceof CasPath o) || o.fs != fs) {
      return false;
    }
    if (o.absolute) {
      return absolute && names.equals(o.names);
    }
    if (o.names.isEmpty()) {
      return !absolute && names.isEmpty();
    }
    int from = names.size() - o.names.size();
    return from >= 0 && names.subList(from, names.size()).equals(o.names);
  }

  @Override
  public CasPath normalize() {
    List<String> result = new ArrayList<>();
    for (String n : names) {
      if (n.equals(".")) {
        continue;
      }
      if (n.equals("..")) {
        if (!result.isEmpty() && !result.getLast().equals("..")) {
          result.removeLast();
          continue;
        }
        if (absolute) {
          continue; // "/.." is "/"
        }
      }
      result.add(n);
    }
    return new CasPath(fs, absolute, result);
  }

  @Override
  public CasPath resolve(Path other) {
    CasPath o = check(other);
    if (o.absolute) {
      return o;
    }
    List<String> joined = new ArrayList<>(names);
    joined.addAll(o.names);
    return new CasPath(fs, absolute, joined);
  }

  @Override
  public CasPath relativize(Path other) {
    CasPath o = check(other);
    if (o.absolute != absolute) {
      throw new IllegalArgumentException(
          "cannot relativize '" + other + "' against '" + this + "': one is absolute, one not");
    }
    int common = 0;
    while (common < names.size() && common < o.names.size()
        && names.get(common).equals(o.names.get(common))) {
      common++;
    }
    List<String> result = new ArrayList<>();
    for (int i = common; i < names.size(); i++) {
      result.add("..");
    }
    result.addAll(o.names.subList(common, o.names.size()));
    return new CasPath(fs, false, result);
  }

  /** {@code cas:<root digest>!<absolute path>}; see {@link CasFileSystemProvider}. */
  @Override
  public URI toUri() {
    return fs.uri(toAbsolutePath().normalize().toString());
  }

  @Override
  public CasPath toAbsolutePath() {
    return absolute ? this : new CasPath(fs, true, names);
  }

  /** The normalized absolute path, if it exists; symlinks are not followed, as everywhere here. */
  @Override
  public CasPath toRealPath(LinkOption... options) throws IOException {
    CasPath real = of(fs, treePath());
    fs.provider().checkAccess(real);
    return real;
  }

  @Override
  public WatchKey register(WatchService watcher, WatchEvent.Kind<?>[] events,
      WatchEvent.Modifier... modifiers) {
    throw new UnsupportedOperationException("a CAS tree cannot be watched");
  }

  @Override
  public int compareTo(Path other) {
    return toString().compareTo(check(other).toString());
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof CasPath p && p.fs == fs && p.absolute == absolute && p.names.equals(names);
  }

  @Override
  public int hashCode() {
    return Objects.hash(absolute, names);
  }

  @Override
  public String toString() {
    String joined = String.join("/", names);
    return absolute ? "/" + joined : joined;
  }

  private CasPath check(Path other) {
    if (!(other instanceof CasPath o) || o.fs != fs) {
      throw new ProviderMismatchException(
          "'" + other + "' is not a path of the same CAS file system as '" + this + "'");
    }
    return o;
  }
}
