package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LruSnapshotTest {
  @TempDir Path dir;

  /** 30,000 entries: the file is larger than the replay's 1 MiB buffer, so entries straddle it. */
  @Test
  void replay_ofTrustedShards_rebuildsTheIndexInOrder_acrossBufferBoundaries() throws IOException {
    BlobIndex original = new BlobIndex(16);
    SplittableRandom random = new SplittableRandom(5);
    for (int i = 0; i < 30_000; i++) {
      original.add(random.nextLong(), random.nextLong(), random.nextLong(), random.nextLong(), i);
    }
    long[] times = new long[256];
    Arrays.fill(times, 12345L);
    Path file = dir.resolve("x.lru");
    LruSnapshot.save(original, times, file);
    assertThat(LruSnapshot.shardTimes(file)).containsOnly(12345L);
    assertThat(LruSnapshot.entries(file)).isEqualTo(30_000);

    boolean[] all = new boolean[256];
    Arrays.fill(all, true);
    BlobIndex replayed = new BlobIndex(16);
    LruSnapshot.replay(file, replayed, all);
    assertThat(raw(replayed)).isEqualTo(raw(original));
  }

  @Test
  void aTornOrOldSnapshot_vouchesForNoShard_butStillOrders() throws IOException {
    BlobIndex index = new BlobIndex(16);
    index.add(1, 2, 3, 4, 5);
    index.add(6, 7, 8, 9, 10);
    long[] times = new long[256];
    Arrays.fill(times, 7L);
    Path file = dir.resolve("y.lru");
    LruSnapshot.save(index, times, file);
    byte[] bytes = Files.readAllBytes(file);
    Files.write(file, Arrays.copyOf(bytes, bytes.length - 1));
    assertThat(LruSnapshot.shardTimes(file)).containsOnly(ShardClock.UNKNOWN);
    assertThat(LruSnapshot.shardTimes(dir.resolve("missing.lru"))).containsOnly(ShardClock.UNKNOWN);

    // Untrusted shards: the replay only reorders what the index holds. The snapshot's first entry
    // is touched (now newest); its torn last entry is ignored, so that blob stays oldest.
    BlobIndex scanned = new BlobIndex(16);
    scanned.add(1, 2, 3, 4, 5);
    scanned.add(6, 7, 8, 9, 10);
    LruSnapshot.replay(file, scanned, new boolean[256]);
    assertThat(raw(scanned)).containsExactly(List.of(6L, 7L, 8L, 9L, 10L), List.of(1L, 2L, 3L, 4L, 5L));
  }

  private static List<List<Long>> raw(BlobIndex index) throws IOException {
    List<List<Long>> out = new ArrayList<>();
    index.forEachOldestFirstRaw((h0, h1, h2, h3, size) -> out.add(List.of(h0, h1, h2, h3, size)));
    return out;
  }
}
