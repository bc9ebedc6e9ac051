package dev.cairn.fuse.cas;

import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.InvalidTreeException;
import dev.cairn.core.tree.MerkleCodec;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * One decoded Directory message, shaped for FUSE: children in a stable order (directories, files,
 * symlinks, each in canonical order) so READDIR offsets are indexes, and a name index for LOOKUP.
 * Immutable; shared by every node whose directory has this digest.
 */
final class Listing {

  /** One child. {@code digest} is null for symlinks, {@code target} null otherwise. */
  record Child(String name, Kind kind, Digest digest, boolean executable, String target) {}

  enum Kind { DIR, FILE, LINK }

  final Child[] children;
  private final Map<String, Child> byName;

  private Listing(Child[] children) {
    this.children = children;
    this.byName = HashMap.newHashMap(children.length);
    for (Child c : children) {
      byName.put(c.name(), c);
    }
  }

  static Listing parse(byte[] bytes, Digest digest) throws InvalidTreeException {
    var dir = MerkleCodec.parse(bytes, "directory " + digest);
    List<DirectoryNode> dirs = dir.getDirectoriesList();
    List<FileNode> files = dir.getFilesList();
    List<SymlinkNode> links = dir.getSymlinksList();
    Child[] children = new Child[dirs.size() + files.size() + links.size()];
    int i = 0;
    for (DirectoryNode d : dirs) {
      children[i++] = new Child(d.getName(), Kind.DIR, Digest.fromProto(d.getDigest()), false, null);
    }
    for (FileNode f : files) {
      children[i++] = new Child(f.getName(), Kind.FILE, Digest.fromProto(f.getDigest()),
          f.getIsExecutable(), null);
    }
    for (SymlinkNode s : links) {
      children[i++] = new Child(s.getName(), Kind.LINK, null, false, s.getTarget());
    }
    return new Listing(children);
  }

  Child get(String name) {
    return byName.get(name);
  }
}
