package dev.cairn.cli;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.core.tree.Name;
import dev.cairn.vfs.Node;
import dev.cairn.vfs.TreePath;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn diff A B}: the paths that differ between two stored trees. It descends only into
 * directories whose digests differ, so it reads Directory messages in proportion to the change,
 * not to the trees, and never reads a file.
 */
@Command(
    name = "diff",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "List the paths that differ between two stored trees.",
      "One line per path, sorted by path in UTF-8 byte order: 'A path' added in B, 'D path'"
          + " deleted from A, 'M path' modified (content, executable bit, symlink target, or kind"
          + " such as a file that became a directory). An added or deleted directory is one line;"
          + " its contents are not listed.",
      "Only directories whose digests differ are read, so identical subtrees cost nothing."
          + " Exits 0 whether or not the trees differ."
    })
final class DiffCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(index = "0", paramLabel = "A", converter = DigestConverter.class,
      description = "Root digest of the old tree.")
  private Digest a;

  @Parameters(index = "1", paramLabel = "B", converter = DigestConverter.class,
      description = "Root digest of the new tree.")
  private Digest b;

  /** One differing path. */
  record Change(char kind, String path) {}

  @Override
  public Integer call() throws IOException {
    List<Change> changes;
    try (BlobStore store = cairn.openBlobStore()) {
      changes = changes(store, a, b);
    }
    PrintWriter out = cairn.invocation().out();
    for (Change c : changes) {
      out.println(c.kind() + " " + c.path());
    }
    return 0;
  }

  /** The differences between the trees {@code a} and {@code b}, sorted by path. */
  static List<Change> changes(BlobStore store, Digest a, Digest b) throws IOException {
    List<Change> changes = new ArrayList<>();
    diff(store, a, b, TreePath.ROOT, changes);
    changes.sort(Comparator.comparing(Change::path, Name.UTF8_ORDER));
    return changes;
  }

  /** Compares two directories by their Directory messages, each read once. */
  private static void diff(BlobStore store, Digest left, Digest right, TreePath dir, List<Change> changes)
      throws IOException {
    if (left.equals(right)) {
      return;
    }
    Map<Name, Node> before = entries(store, left);
    Map<Name, Node> after = entries(store, right);
    for (var e : before.entrySet()) {
      if (!after.containsKey(e.getKey())) {
        changes.add(new Change('D', dir.resolve(e.getKey()).toString()));
      }
    }
    for (var e : after.entrySet()) {
      TreePath path = dir.resolve(e.getKey());
      Node old = before.get(e.getKey());
      Node now = e.getValue();
      if (old == null) {
        changes.add(new Change('A', path.toString()));
      } else if (old instanceof Node.Dir o && now instanceof Node.Dir n) {
        diff(store, o.digest().orElseThrow(), n.digest().orElseThrow(), path, changes);
      } else if (!Objects.equals(old, now)) {
        changes.add(new Change('M', path.toString()));
      }
    }
  }

  private static Map<Name, Node> entries(BlobStore store, Digest directory) throws IOException {
    Directory message = MerkleCodec.parse(store.get(directory), "directory " + directory);
    Map<Name, Node> map = new HashMap<>();
    for (FileNode f : message.getFilesList()) {
      Digest d = Digest.fromProto(f.getDigest());
      map.put(new Name(f.getName()), new Node.File(d.sizeBytes(), f.getIsExecutable(), Optional.of(d)));
    }
    for (DirectoryNode d : message.getDirectoriesList()) {
      map.put(new Name(d.getName()), new Node.Dir(Optional.of(Digest.fromProto(d.getDigest()))));
    }
    for (SymlinkNode l : message.getSymlinksList()) {
      map.put(new Name(l.getName()), new Node.Link(l.getTarget()));
    }
    return map;
  }
}
