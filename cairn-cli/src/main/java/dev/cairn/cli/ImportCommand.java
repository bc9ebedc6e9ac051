package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.tree.DigestCache;
import dev.cairn.core.tree.MerkleTreeBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn import DIR}: stores a directory tree as a Merkle tree and prints its root digest,
 * the handle every other tree command ({@code export}, {@code ls}, {@code tree}) takes.
 */
@Command(
    name = "import",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Store a directory tree and print its root digest.",
      "Files, executable bits, symlinks (target kept verbatim) and empty directories are stored;"
          + " importing the same content again gives the same digest. Devices, sockets and fifos"
          + " are refused. Shows a progress bar when run on a terminal.",
      "Files unchanged since the last import of the same directory (same inode, size, mtime and"
          + " ctime) are not read again: their digests are kept per directory in the store's"
          + " digests/ folder. --rehash reads every file.",
      "Run by ./cairn, it leaves a store service in the background (for "
          + StoreService.LINGER_ENV + ", default 5 minutes once idle) that runs the next"
          + " import, export and mount of this store without starting a JVM; "
          + ServiceCommand.SERVICE_ENV + "=off runs without one."
    })
final class ImportCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(index = "0", paramLabel = "DIR", description = "The directory to store.")
  private Path dir;

  @Option(
      names = "--json",
      description = "Print one JSON object with the root digest and counts instead of the digest:"
          + " root, files, directories, symlinks, bytes, blobsStored, bytesStored, filesHashed,"
          + " seconds.")
  private boolean json;

  @Option(
      names = "--rehash",
      description = "Hash every file, even those whose inode, size, mtime and ctime say they are"
          + " unchanged since the last import; what is hashed replaces what was remembered.")
  private boolean rehash;

  @Override
  public Integer call() throws IOException {
    Invocation io = cairn.invocation();
    if (cairn.declinedByService()) {
      return 0;
    }
    long start = System.nanoTime();
    Path dir = io.resolve(this.dir);
    MerkleTreeBuilder.Result result;
    Path cacheDir = cairn.storePath().resolve("digests");
    DigestCache cache = rehash
        ? DigestCache.refresh(cacheDir, dir, cairn.digestFunction())
        : DigestCache.open(cacheDir, dir, cairn.digestFunction());
    try (BlobStore store = cairn.openBlobStore()) {
      int parallelism = Runtime.getRuntime().availableProcessors();
      result = new MerkleTreeBuilder(store, parallelism, TerminalProgress.forInvocation(io), cache)
          .build(dir);
    }
    try {
      cache.save();
    } catch (IOException e) {
      io.err().println("cairn: warning: the digests of " + dir + " were not remembered ("
          + e.getMessage() + "); the next import reads every file again");
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (json) {
      io.out().println(new Json()
          .field("root", result.root().toString())
          .field("files", result.files())
          .field("directories", result.directories())
          .field("symlinks", result.symlinks())
          .field("bytes", result.bytes())
          .field("blobsStored", result.blobsStored())
          .field("bytesStored", result.bytesStored())
          .field("filesHashed", result.filesHashed())
          .field("seconds", seconds, 3));
    } else {
      io.out().println(result.root());
    }
    io.out().flush();
    ServiceCommand.startInBackground(cairn); // the next import or export: no JVM start
    return 0;
  }
}
