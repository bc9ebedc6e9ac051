package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.TreeExporter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn export DIGEST DIR}: materializes a stored tree as real files, the inverse of {@code
 * import}. Prints nothing on success, so it composes in scripts.
 */
@Command(
    name = "export",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Write a stored tree out as files.",
      "DIR must not exist or be an empty directory. Files get mode 0755 (executable) or 0644;"
          + " symlinks and empty directories are recreated. Shows a progress bar when run on a"
          + " terminal.",
      "Run by ./cairn, it leaves a store service in the background, as 'cairn import' does."
    })
final class ExportCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(
      index = "0",
      paramLabel = "DIGEST",
      converter = DigestConverter.class,
      description = "Root digest of the tree, <hex>/<size>, as printed by 'cairn import'.")
  private Digest root;

  @Parameters(index = "1", paramLabel = "DIR", description = "Where to write the tree.")
  private Path dir;

  @Override
  public Integer call() throws IOException {
    if (cairn.declinedByService()) {
      return 0;
    }
    Path dir = cairn.invocation().resolve(this.dir);
    try (BlobStore store = cairn.openBlobStore()) {
      int parallelism = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
      new TreeExporter(store, parallelism, TerminalProgress.forInvocation(cairn.invocation()))
          .export(root, dir);
    }
    ServiceCommand.startInBackground(cairn); // the next import or export: no JVM start
    return 0;
  }
}
