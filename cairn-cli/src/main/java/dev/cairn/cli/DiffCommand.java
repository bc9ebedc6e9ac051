package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.Name;
import dev.cairn.vfs.CasDirectory;
import dev.cairn.vfs.Entry;
import dev.cairn.vfs.Node;
import dev.cairn.vfs.TreePath;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
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
    List<Change> changes = new ArrayList<>();
    try (BlobStore store = cairn.openBlobStore()) {
      if (!a.equals(b)) {
        diff(CasDirectory.open(store, a), CasDirectory.open(store, b), TreePath.ROOT, changes);
      }
    }
    changes.sort(Comparator.comparing(Change::path, Name.UTF8_ORDER));
    PrintWriter out = cairn.invocation().out();
    for (Change c : changes) {
      out.println(c.kind() + " " + c.path());
    }
    return 0;
  }

  private static void diff(CasDirectory left, CasDirectory right, TreePath dir, List<Change> changes)
      throws IOException {
    Map<Name, Node> before = byName(left.list(dir));
    Map<Name, Node> after = byName(right.list(dir));
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
        if (o.digest().isEmpty() || !o.digest().equals(n.digest())) {
          diff(left, right, path, changes);
        }
      } else if (!Objects.equals(old, now)) {
        changes.add(new Change('M', path.toString()));
      }
    }
  }

  private static Map<Name, Node> byName(List<Entry> entries) {
    Map<Name, Node> map = new TreeMap<>();
    for (Entry e : entries) {
      map.put(e.name(), e.node());
    }
    return map;
  }
}
