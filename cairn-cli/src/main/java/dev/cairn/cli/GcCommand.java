package dev.cairn.cli;

import dev.cairn.store.disk.DiskBlobStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn gc}: evicts least-recently-used blobs until the store fits its limit, or the size
 * given with {@code --max-size} for this one run. The store evicts on its own as it fills; this
 * command frees space now, e.g. before a large build or to empty the cache.
 */
@Command(
    name = "gc",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Evict least-recently-used blobs until the store fits its limit.",
      "With --max-size SIZE, evict down to SIZE instead; the saved limit is left unchanged"
          + " ('cairn --max-size 0 gc' empties the store). Prints the bytes and blobs freed."
    })
final class GcCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = cairn.invocation().out();
    OptionalLong target = cairn.maxSize();
    cairn.requireLocal("gc");
    try (DiskBlobStore store = cairn.openStore(OptionalLong.empty())) {
      DiskBlobStore.Stats before = store.stats();
      long goal = target.orElse(before.maxSizeBytes());
      long freed = store.gc(goal);
      DiskBlobStore.Stats after = store.stats();
      out.printf("freed %s in %d blobs%n",
          StatCommand.bytes(freed), Math.max(0, before.blobCount() - after.blobCount()));
      out.printf("now %s used of %s%n",
          StatCommand.bytes(after.bytesUsed()), StatCommand.bytes(goal));
    }
    return 0;
  }
}
