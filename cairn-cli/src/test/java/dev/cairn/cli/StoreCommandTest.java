package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreCommandTest {

  @TempDir Path tmp;
  private Path store;
  private CliRunner cairn;

  @BeforeEach
  void setUp() {
    store = tmp.resolve("store");
    cairn = new CliRunner(store);
  }

  private String put(String name, int size) throws IOException {
    byte[] content = new byte[size];
    java.util.Arrays.fill(content, (byte) name.charAt(0));
    return cairn.ok("put", Files.write(tmp.resolve(name), content).toString()).line();
  }

  @Test
  void stat_newStore_showsEverySettingAndUsage() {
    assertThat(cairn.ok("stat").lines()).containsExactly(
        "store:           " + store.toAbsolutePath(),
        "digest function: sha256",
        "bytes used:      0 B (0 bytes)",
        "blobs:           0",
        "limit:           10 GiB (10737418240 bytes)",
        "evictions:       0");
  }

  @Test
  void stat_countsStoredBlobs() throws IOException {
    put("a", 1000);
    put("b", 2000);

    assertThat(cairn.ok("stat").lines())
        .contains("bytes used:      2.93 KiB (3000 bytes)", "blobs:           2");
  }

  @Test
  void maxSize_isRememberedByTheStore() {
    cairn.ok("--max-size", "1.5GiB", "stat");

    assertThat(cairn.ok("stat").lines()).contains("limit:           1.5 GiB (1610612736 bytes)");
  }

  @Test
  void maxSize_afterTheSubcommand_worksToo() {
    assertThat(cairn.ok("stat", "--max-size", "512M").lines())
        .contains("limit:           512 MiB (536870912 bytes)");
  }

  @Test
  void maxSize_garbage_isAUsageError() {
    CliRunner.Result r = cairn.run("stat", "--max-size", "lots");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("--max-size").contains("invalid size 'lots'");
  }

  @Test
  void maxSize_zeroAsALimit_isAUsageError() {
    CliRunner.Result r = cairn.run("--max-size", "0", "stat");

    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.stderr()).contains("must be positive");
  }

  @Test
  void gc_underTheLimit_freesNothing() throws IOException {
    put("a", 100);

    assertThat(cairn.ok("gc").lines()).containsExactly(
        "freed 0 B (0 bytes) in 0 blobs",
        "now 100 B (100 bytes) used of 10 GiB (10737418240 bytes)");
  }

  @Test
  void gc_withMaxSize_evictsLeastRecentlyUsedFirst_andKeepsTheSavedLimit() throws IOException {
    String old = put("o", 1000);
    String mid = put("m", 1000);
    String fresh = put("f", 1000);
    cairn.ok("cat", old); // now "m" is the least recently used

    assertThat(cairn.ok("gc", "--max-size", "2500").lines()).containsExactly(
        "freed 1000 B (1000 bytes) in 1 blobs",
        "now 1.95 KiB (2000 bytes) used of 2.44 KiB (2500 bytes)");

    assertThat(cairn.run("cat", mid).exitCode()).isEqualTo(1);
    assertThat(cairn.ok("cat", old).stdoutBytes()).hasSize(1000);
    assertThat(cairn.ok("cat", fresh).stdoutBytes()).hasSize(1000);
    assertThat(cairn.ok("stat").lines()).contains("limit:           10 GiB (10737418240 bytes)");
  }

  @Test
  void gc_maxSizeZero_emptiesTheStore() throws IOException {
    put("a", 10);
    put("b", 20);

    assertThat(cairn.ok("--max-size", "0", "gc").lines()).first().isEqualTo("freed 30 B (30 bytes) in 2 blobs");
    assertThat(cairn.ok("stat").lines()).contains("blobs:           0");
  }
}
