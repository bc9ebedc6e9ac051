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
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar dev.cairn.bench.ImportMain STORE DIR}
 */
public final class ImportMain {
  private ImportMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: ImportMain STORE-DIR TREE-DIR");
      System.exit(2);
    }
    Path storeDir = Path.of(args[0]);
    Path tree = Path.of(args[1]);
    MerkleTreeBuilder.Result result;
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir))) {
      result = new MerkleTreeBuilder(store).build(tree);
    }
    System.out.println(result.root());
    System.err.printf("%d files, %d directories, %d symlinks, %d bytes; stored %d blobs, %d bytes%n",
        result.files(), result.directories(), result.symlinks(), result.bytes(),
        result.blobsStored(), result.bytesStored());
  }
}
