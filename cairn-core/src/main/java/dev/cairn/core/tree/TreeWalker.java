package dev.cairn.core.tree;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.util.Objects;

/**
 * Reads a Merkle tree back from a {@link BlobStore}: loads and validates each Directory message,
 * resolves paths inside a tree, and visits every node depth-first in canonical order. Directory
 * messages are loaded on demand, so walking a subtree never reads the rest of the tree.
 */
public final class TreeWalker {

  /** Receives the nodes of a tree; paths are relative to the root, joined with {@code /}. */
  public interface Visitor {
    /** Called before the directory's entries; the root has the empty path. */
    default void directory(String path, Digest digest, Directory directory) throws IOException {}

    /** Called after all the directory's entries. */
    default void directoryEnd(String path, Digest digest) throws IOException {}

    default void file(String path, FileNode file) throws IOException {}

    default void symlink(String path, SymlinkNode symlink) throws IOException {}
  }

  /** What a path inside a tree names: exactly one of the three node kinds, or the root itself. */
  public sealed interface Entry {
    String path();
  }

  public record DirectoryEntry(String path, Digest digest, Directory directory) implements Entry {}

  public record FileEntry(String path, FileNode node) implements Entry {}

  public record SymlinkEntry(String path, SymlinkNode node) implements Entry {}

  private final BlobStore store;

  public TreeWalker(BlobStore store) {
    this.store = Objects.requireNonNull(store, "store");
  }

  /**
   * Loads one Directory message and checks that it is canonical.
   *
   * @throws BlobNotFoundException if the store lacks it
   * @throws InvalidTreeException if it is not a valid Directory
   */
  public Directory load(Digest digest) throws IOException {
    return MerkleCodec.parse(store.get(digest), "directory " + digest);
  }

  /**
   * Resolves {@code path} (components separated by {@code /}; empty for the root) in the tree
   * rooted at {@code root}. Symlinks are not followed: a path through a symlink is an error.
   */
  public Entry resolve(Digest root, String path) throws IOException {
    Directory dir = load(root);
    Digest dirDigest = root;
    String walked = "";
    if (path.isEmpty()) {
      return new DirectoryEntry("", root, dir);
    }
    String[] parts = path.split("/", -1);
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      String problem = Name.problem(part);
      if (problem != null) {
        throw new IllegalArgumentException("path '" + path + "': " + problem);
      }
      walked = walked.isEmpty() ? part : walked + "/" + part;
      boolean last = i == parts.length - 1;
      DirectoryNode sub = findDirectory(dir, part);
      if (sub != null) {
        dirDigest = Digest.fromProto(sub.getDigest());
        dir = load(dirDigest);
        if (last) {
          return new DirectoryEntry(walked, dirDigest, dir);
        }
        continue;
      }
      FileNode file = findFile(dir, part);
      SymlinkNode link = file == null ? findSymlink(dir, part) : null;
      if (file == null && link == null) {
        throw new java.nio.file.NoSuchFileException(
            walked, null, "no such entry in tree " + root);
      }
      if (!last) {
        throw new java.nio.file.NotDirectoryException(walked + " (in tree " + root + ")");
      }
      return file != null ? new FileEntry(walked, file) : new SymlinkEntry(walked, link);
    }
    throw new AssertionError("unreachable");
  }

  /** Visits the tree below {@code root} depth-first, entries in canonical order. */
  public void walk(Digest root, Visitor visitor) throws IOException {
    walk(root, "", visitor);
  }

  /** As {@link #walk(Digest, Visitor)}, reporting paths under {@code prefix}. */
  public void walk(Digest root, String prefix, Visitor visitor) throws IOException {
    Directory dir = load(root);
    visitor.directory(prefix, root, dir);
    for (FileNode f : dir.getFilesList()) {
      visitor.file(join(prefix, f.getName()), f);
    }
    for (SymlinkNode s : dir.getSymlinksList()) {
      visitor.symlink(join(prefix, s.getName()), s);
    }
    for (DirectoryNode d : dir.getDirectoriesList()) {
      walk(Digest.fromProto(d.getDigest()), join(prefix, d.getName()), visitor);
    }
    visitor.directoryEnd(prefix, root);
  }

  private static String join(String prefix, String name) {
    return prefix.isEmpty() ? name : prefix + "/" + name;
  }

  private static DirectoryNode findDirectory(Directory dir, String name) {
    int lo = 0;
    int hi = dir.getDirectoriesCount() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = Name.compareUtf8(dir.getDirectories(mid).getName(), name);
      if (c == 0) {
        return dir.getDirectories(mid);
      } else if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return null;
  }

  private static FileNode findFile(Directory dir, String name) {
    int lo = 0;
    int hi = dir.getFilesCount() - 1;
    while (lo <= hi) {
      int mid = (lo + hi) >>> 1;
      int c = Name.compareUtf8(dir.getFiles(mid).getName(), name);
      if (c == 0) {
        return dir.getFiles(mid);
      } else if (c < 0) {
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return null;
  }

  private static SymlinkNode findSymlink(Directory dir, String name) {
    for (SymlinkNode s : dir.getSymlinksList()) {
      if (s.getName().equals(name)) {
        return s;
      }
    }
    return null;
  }
}
