package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn put FILE...}: stores files as blobs and prints each digest. A file is read twice,
 * once to hash and once to store (only if the store lacks it), so no file is ever held in memory.
 */
@Command(
    name = "put",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Store files as blobs and print their digests.",
      "Prints one line <hex>/<size> per FILE, in order. Stops at the first file that cannot be"
          + " stored. Directories are stored with 'cairn import'."
    })
final class PutCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "Regular files to store.")
  private List<Path> files;

  @Override
  public Integer call() throws IOException {
    try (BlobStore store = cairn.openBlobStore()) {
      for (Path file : files) {
        Digest digest = put(store, file);
        cairn.invocation().out().println(digest);
        cairn.invocation().out().flush();
      }
    }
    return 0;
  }

  private static Digest put(BlobStore store, Path file) throws IOException {
    if (Files.isDirectory(file)) {
      throw new IOException(file + ": is a directory (use 'cairn import' to store a tree)");
    }
    Digest digest;
    try (InputStream in = Files.newInputStream(file)) {
      digest = store.digestFunction().digestOf(in);
    }
    if (!store.findMissing(List.of(digest)).isEmpty()) {
      try (InputStream in = Files.newInputStream(file)) {
        store.put(digest, in);
      } catch (DigestMismatchException e) {
        throw new IOException(file + ": file changed while it was being stored", e);
      }
    }
    return digest;
  }
}
