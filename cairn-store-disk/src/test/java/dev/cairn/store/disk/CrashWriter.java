package dev.cairn.store.disk;

import dev.cairn.core.digest.Digest;
import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.Random;

/**
 * A child process for {@link DiskStoreCrashIT}: puts random blobs into a store forever, printing
 * each digest once {@code put} has returned, until it is killed.
 */
public final class CrashWriter {
  private CrashWriter() {}

  public static void main(String[] args) throws Exception {
    Path root = Path.of(args[0]);
    long seed = Long.parseLong(args[1]);
    Random random = new Random(seed);
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(root))) {
      while (true) {
        int size = random.nextInt(4) == 0 ? random.nextInt(4 << 20) : random.nextInt(64 << 10);
        byte[] data = new byte[size];
        random.nextBytes(data);
        Digest d = store.digestFunction().digestOf(data);
        store.put(d, new ByteArrayInputStream(data));
        System.out.println(d);
        System.out.flush();
      }
    }
  }
}
