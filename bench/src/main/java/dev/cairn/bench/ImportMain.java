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
 * <p>{@code --os-directory} imports through the Directory API instead ({@code
 * OsDirectory.open(DIR, store).snapshot()}), so the two paths can be compared one fresh JVM each.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar dev.cairn.bench.ImportMain [--repeat N]
 * [--os-directory] STORE DIR}
 */
public final class ImportMain {
  private ImportMain() {}

  public static void main(String[] args) throws Exception {
    int repeat = 1;
    boolean viaOsDirectory = false;
    java.util.List<String> rest = new java.util.ArrayList<>(java.util.List.of(args));
    if (rest.size() >= 2 && rest.get(0).equals("--repeat")) {
      repeat = Integer.parseInt(rest.get(1));
      rest = rest.subList(2, rest.size());
    }
    if (!rest.isEmpty() && rest.get(0).equals("--os-directory")) {
      viaOsDirectory = true;
      rest = rest.subList(1, rest.size());
    }
    if (rest.size() != 2) {
      System.err.println("usage: ImportMain [--repeat N] [--os-directory] STORE-DIR TREE-DIR");
      System.exit(2);
    }
    Path storeDir = Path.of(rest.get(0));
    Path tree = Path.of(rest.get(1));
    MerkleTreeBuilder.Result result = null;
    dev.cairn.core.digest.Digest root = null;
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir))) {
      for (int i = 0; i < repeat; i++) {
        long t0 = System.nanoTime();
        if (viaOsDirectory) {
          root = dev.cairn.vfs.OsDirectory.open(tree, store).snapshot();
        } else {
          result = new MerkleTreeBuilder(store).build(tree);
          root = result.root();
        }
        if (repeat > 1) {
          System.err.printf("import %d: %d ms%n", i + 1, (System.nanoTime() - t0) / 1_000_000);
        }
      }
    }
    System.out.println(root);
    if (result != null) {
      System.err.printf("%d files, %d directories, %d symlinks, %d bytes; stored %d blobs, %d bytes%n",
          result.files(), result.directories(), result.symlinks(), result.bytes(),
          result.blobsStored(), result.bytesStored());
    }
  }
}
