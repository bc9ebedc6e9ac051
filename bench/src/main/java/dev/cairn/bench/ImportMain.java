package dev.cairn.bench;

import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.nio.file.Path;

/**
 * {@code cairn import DIR} without the CLI: opens a {@link DiskBlobStore}, imports the directory
 * with {@link MerkleTreeBuilder} (one hashing thread per core, as the CLI's default), closes the
 * store and prints the root digest. Stands in for the {@code ./cairn} launcher in
 * {@code bench/import-vs-sha256sum.sh} until that launcher exists on main.
 *
 * <p>{@code --repeat N} imports N times in the same JVM and prints each import's wall time to
 * stderr: the later runs show the steady state of a long-running process (JIT done), which a
 * one-shot command never reaches.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar dev.cairn.bench.ImportMain [--repeat N]
 * STORE DIR}
 */
public final class ImportMain {
  private ImportMain() {}

  public static void main(String[] args) throws Exception {
    int repeat = 1;
    int first = 0;
    if (args.length == 4 && args[0].equals("--repeat")) {
      repeat = Integer.parseInt(args[1]);
      first = 2;
    } else if (args.length != 2) {
      System.err.println("usage: ImportMain [--repeat N] STORE-DIR TREE-DIR");
      System.exit(2);
    }
    Path storeDir = Path.of(args[first]);
    Path tree = Path.of(args[first + 1]);
    MerkleTreeBuilder.Result result = null;
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir))) {
      for (int i = 0; i < repeat; i++) {
        long t0 = System.nanoTime();
        result = new MerkleTreeBuilder(store).build(tree);
        if (repeat > 1) {
          System.err.printf("import %d: %d ms%n", i + 1, (System.nanoTime() - t0) / 1_000_000);
        }
      }
    }
    System.out.println(result.root());
    System.err.printf("%d files, %d directories, %d symlinks, %d bytes; stored %d blobs, %d bytes%n",
        result.files(), result.directories(), result.symlinks(), result.bytes(),
        result.blobsStored(), result.bytesStored());
  }
}
