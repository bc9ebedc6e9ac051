package dev.cairn.cli;

import dev.cairn.store.disk.DiskBlobStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn stat}: shows how full the store is and how it is set up, so a person can decide
 * whether to raise {@code --max-size} or run {@code gc}.
 */
@Command(
    name = "stat",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Show the store's usage and settings.",
      "Prints the store path, digest function, bytes used, blob count, size limit and the number"
          + " of evictions so far. Sizes are shown human-readable and in exact bytes."
    })
final class StatCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = cairn.invocation().out();
    cairn.requireLocal("stat");
    try (DiskBlobStore store = cairn.openStore()) {
      DiskBlobStore.Stats stats = store.stats();
      row(out, "store", store.root().toAbsolutePath().toString());
      row(out, "digest function", store.digestFunction().cliName());
      row(out, "bytes used", bytes(stats.bytesUsed()));
      row(out, "blobs", Long.toString(stats.blobCount()));
      row(out, "limit", bytes(stats.maxSizeBytes()));
      row(out, "evictions", Long.toString(stats.evictions()));
    }
    return 0;
  }

  /** {@code 1.5 GiB (1610612736 bytes)}: readable, and exact for scripts and comparisons. */
  static String bytes(long n) {
    return ByteSize.format(n) + " (" + n + " bytes)";
  }

  private static void row(PrintWriter out, String label, String value) {
    out.printf("%-16s %s%n", label + ":", value);
  }
}
