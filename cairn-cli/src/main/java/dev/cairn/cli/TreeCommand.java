package dev.cairn.cli;

import build.bazel.remote.execution.v2.Directory;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.tree.TreeWalker;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn tree DIGEST[/path]}: lists a stored tree recursively, one line per entry with its
 * full path, like {@code find} with {@code ls -l} columns. Streams as it walks, so memory does not
 * grow with the tree.
 */
@Command(
    name = "tree",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "List a stored tree recursively.",
      "Same columns as 'cairn ls', with each entry's path relative to the root digest; a"
          + " directory's line comes right before its contents, entries in name order."
    })
final class TreeCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(
      index = "0",
      paramLabel = "DIGEST[/PATH]",
      converter = TreePath.Converter.class,
      description = "Root digest, optionally with a path below it to list only that subtree.")
  private TreePath where;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = cairn.invocation().out();
    try (BlobStore store = cairn.openBlobStore()) {
      TreeWalker walker = new TreeWalker(store);
      TreeWalker.Entry entry = walker.resolve(where.root(), where.path());
      if (entry instanceof TreeWalker.DirectoryEntry dir) {
        list(walker, dir.directory(), where.path(), out);
      } else {
        out.println(Listing.of(where.path(), entry).line());
      }
    }
    return 0;
  }

  private static void list(TreeWalker walker, Directory dir, String prefix, PrintWriter out)
      throws IOException {
    for (Listing listing : Listing.entries(dir)) {
      String path = prefix.isEmpty() ? listing.name() : prefix + "/" + listing.name();
      out.println(listing.line(path));
      if (listing.isDirectory()) {
        list(walker, walker.load(listing.digest()), path, out);
      }
    }
  }
}
