package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.digest.Digest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A store on a real, tiny file system (a 3 MiB tmpfs, mounted by the test, which needs root):
 * a write that hits "no space left" fails with a clear error, leaves no temp file, and the store
 * goes on serving and accepting blobs.
 */
class DiskFullIT {
  @TempDir Path dir;

  @Test
  void diskFull_failsCleanly_andStoreStaysUsable() throws Exception {
    assumeTrue("root".equals(System.getProperty("user.name")),
        "DiskFullIT SKIPPED: mounting a tmpfs needs root (CI runs as root)");
    Path mount = dir.resolve("fs");
    Files.createDirectories(mount);
    run("mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", mount.toString());
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(mount.resolve("store")))) {
      byte[] first = random(1 << 20, 1);
      Digest d1 = store.put(first);
      byte[] big = random(5 << 19, 2); // 2.5 MiB: does not fit next to the first
      assertThatThrownBy(() -> store.put(big))
          .isInstanceOf(StoreFullException.class)
          .hasMessageContaining("no space left")
          .hasMessageContaining(mount.resolve("store").toString());
      try (Stream<Path> temps = Files.list(mount.resolve("store/tmp"))) {
        assertThat(temps).isEmpty();
      }
      assertThat(store.get(d1)).isEqualTo(first);
      byte[] small = random(100_000, 3);
      Digest d3 = store.put(small);
      assertThat(store.get(d3)).isEqualTo(small);
      assertThat(store.stats().blobCount()).isEqualTo(2);
    } finally {
      run("umount", mount.toString());
    }
  }

  private static byte[] random(int size, long seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static void run(String... command) throws Exception {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
  }
}
