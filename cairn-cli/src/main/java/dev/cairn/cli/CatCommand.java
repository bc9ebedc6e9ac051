package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn cat DIGEST}: writes a blob's bytes to stdout, streamed in chunks, so blobs of any
 * size pass through a constant amount of memory.
 */
@Command(
    name = "cat",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Write a blob's bytes to standard output.",
      "DIGEST is <hex>/<size> as printed by 'cairn put'. Fails if the store does not hold it."
    })
final class CatCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(
      index = "0",
      paramLabel = "DIGEST",
      converter = DigestConverter.class,
      description = "The blob's digest, <hex>/<size>.")
  private Digest digest;

  @Override
  public Integer call() throws IOException {
    Invocation io = cairn.invocation();
    io.out().flush();
    OutputStream out = io.stdout();
    long written;
    try (BlobStore store = cairn.openBlobStore();
        InputStream in = store.openRead(digest, 0)) {
      written = in.transferTo(out);
    }
    out.flush();
    if (written != digest.sizeBytes()) {
      throw DigestMismatchException.sizeDiffers(digest, written);
    }
    return 0;
  }
}
