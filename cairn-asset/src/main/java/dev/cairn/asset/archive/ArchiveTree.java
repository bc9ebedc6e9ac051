package dev.cairn.asset.archive;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.asset.archive.InvalidArchiveException.Reason;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.core.tree.Name;
import java.io.IOException;
import java.util.Map;
import java.util.TreeMap;

/**
 * The tree an archive describes, built in memory entry by entry with the rules of extracting it
 * on disk: a later entry replaces an earlier one at the same path (last wins), parents that no
 * entry names are created, and hard links take the content of the file they name. Anything that
 * on disk would write through a symlink the archive created is refused, as is replacing a
 * directory by a file. Not thread-safe.
 */
final class ArchiveTree {

  /** A node: a directory, a file or a symlink. */
  sealed interface Node permits Dir, File, Link {}

  static final class Dir implements Node {
    final TreeMap<String, Node> children = new TreeMap<>(Name.UTF8_ORDER);
  }

  record File(Digest digest, boolean executable) implements Node {}

  record Link(String target) implements Node {}

  /** Receives each Directory message as the tree is encoded, children before parents. */
  interface DirectorySink {
    void accept(Digest digest, byte[] encoded) throws IOException;
  }

  private final Dir root = new Dir();
  private final String archive;

  ArchiveTree(String archive) {
    this.archive = archive;
  }

  void addDirectory(EntryPath path) throws InvalidArchiveException {
    if (path.isRoot()) {
      return;
    }
    Dir parent = parentOf(path);
    Node existing = parent.children.get(path.name());
    if (existing instanceof Dir) {
      return;
    }
    if (existing instanceof Link) {
      throw EntryPath.unsafe(archive, path.raw(),
          "'" + path.joined(path.components().size()) + "' is a symlink made by an earlier entry");
    }
    parent.children.put(path.name(), new Dir());
  }

  void addFile(EntryPath path, Digest digest, boolean executable) throws InvalidArchiveException {
    put(path, new File(digest, executable));
  }

  void addSymlink(EntryPath path, String target) throws InvalidArchiveException {
    put(path, new Link(target));
  }

  /** A hard link: a copy of the file (or symlink) an earlier entry made at {@code target}. */
  void addHardLink(EntryPath path, EntryPath target) throws InvalidArchiveException {
    Node node = target.isRoot() ? root : find(target, path);
    if (!(node instanceof File || node instanceof Link)) {
      throw new InvalidArchiveException(Reason.CORRUPT, archive + ": entry '"
          + EntryPath.printable(path.raw()) + "' is a hard link to '"
          + EntryPath.printable(target.raw()) + "', which no earlier entry made as a file"
          + (node instanceof Dir ? " (it is a directory)" : ""));
    }
    put(path, node);
  }

  private void put(EntryPath path, Node node) throws InvalidArchiveException {
    if (path.isRoot()) {
      throw EntryPath.unsafe(archive, path.raw(), "a file entry cannot be the archive's root");
    }
    Dir parent = parentOf(path);
    if (parent.children.get(path.name()) instanceof Dir) {
      throw EntryPath.unsafe(archive, path.raw(),
          "it would replace the directory '" + path.joined(path.components().size()) + "'");
    }
    parent.children.put(path.name(), node);
  }

  /** The directory that holds {@code path}, creating missing parents. */
  private Dir parentOf(EntryPath path) throws InvalidArchiveException {
    Dir dir = root;
    var components = path.components();
    for (int i = 0; i < components.size() - 1; i++) {
      Node child = dir.children.get(components.get(i));
      switch (child) {
        case null -> {
          Dir created = new Dir();
          dir.children.put(components.get(i), created);
          dir = created;
        }
        case Dir d -> dir = d;
        case Link l -> throw EntryPath.unsafe(archive, path.raw(),
            "it would land under '" + path.joined(i + 1) + "', a symlink (to '"
                + EntryPath.printable(l.target()) + "') made by an earlier entry");
        case File f -> throw EntryPath.unsafe(archive, path.raw(),
            "'" + path.joined(i + 1) + "' is a file made by an earlier entry, not a directory");
      }
    }
    return dir;
  }

  /** The node at {@code path} (the target of {@code link}), or null; never through a symlink. */
  private Node find(EntryPath path, EntryPath link) throws InvalidArchiveException {
    Node node = root;
    for (int i = 0; i < path.components().size(); i++) {
      if (!(node instanceof Dir dir)) {
        return null;
      }
      node = dir.children.get(path.components().get(i));
      if (node instanceof Link && i < path.components().size() - 1) {
        throw EntryPath.unsafe(archive, link.raw(), "its hard link target '"
            + EntryPath.printable(path.raw()) + "' leads through '" + path.joined(i + 1)
            + "', a symlink made by an earlier entry");
      }
    }
    return node;
  }

  /** Encodes the tree bottom-up in canonical form, giving each Directory to {@code sink}. */
  Digest encode(dev.cairn.core.digest.DigestFunction function, DirectorySink sink)
      throws IOException {
    return encode(root, function, sink);
  }

  private static Digest encode(
      Dir dir, dev.cairn.core.digest.DigestFunction function, DirectorySink sink)
      throws IOException {
    Directory.Builder b = Directory.newBuilder();
    // children is in UTF-8 order, so each of the three lists comes out sorted.
    for (Map.Entry<String, Node> e : dir.children.entrySet()) {
      switch (e.getValue()) {
        case File f -> b.addFiles(FileNode.newBuilder().setName(e.getKey())
            .setDigest(f.digest().toProto()).setIsExecutable(f.executable()));
        case Dir d -> b.addDirectories(DirectoryNode.newBuilder().setName(e.getKey())
            .setDigest(encode(d, function, sink).toProto()));
        case Link l -> b.addSymlinks(SymlinkNode.newBuilder().setName(e.getKey())
            .setTarget(l.target()));
      }
    }
    byte[] bytes = MerkleCodec.encode(b.build());
    Digest digest = function.digestOf(bytes);
    sink.accept(digest, bytes);
    return digest;
  }
}
