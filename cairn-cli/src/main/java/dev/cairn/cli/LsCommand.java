package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.tree.TreeWalker;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn ls DIGEST[/path]}: lists one directory of a stored tree, or shows the single entry
 * a path names. Loads only the Directory messages on the path, never the rest of the tree.
 */
@Command(
    name = "ls",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "List a directory of a stored tree.",
      "The argument is a root digest <hex>/<size>, optionally followed by /path/inside/the/tree."
          + " A directory shows one line per entry; a file or symlink shows itself.",
      "Columns: mode, size in bytes, digest ('-' for symlinks), name ('name -> target' for"
          + " symlinks). A directory's size and digest are those of its Directory message."
    })
final class LsCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(
      index = "0",
      paramLabel = "DIGEST[/PATH]",
      converter = TreePath.Converter.class,
      description = "Root digest, optionally with a path below it.")
  private TreePath where;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = cairn.invocation().out();
    try (BlobStore store = cairn.openBlobStore()) {
      TreeWalker.Entry entry = new TreeWalker(store).resolve(where.root(), where.path());
      if (entry instanceof TreeWalker.DirectoryEntry dir) {
        for (Listing listing : Listing.entries(dir.directory())) {
          out.println(listing.line());
        }
      } else {
        out.println(Listing.of(where.path(), entry).line());
      }
    }
    return 0;
  }
}
