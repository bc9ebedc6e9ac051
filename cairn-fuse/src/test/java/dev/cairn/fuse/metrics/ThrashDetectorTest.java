package dev.cairn.fuse.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.fuse.FakeClock;
import dev.cairn.fuse.RecordingLogger;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ThrashDetectorTest {
  @TempDir Path tmp;
  private final FakeClock clock = new FakeClock();
  private final RecordingLogger log = new RecordingLogger();

  private static byte[] blob(int size, int seed) {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    return b;
  }

  /**
   * A real bounded disk store read round-robin over more blobs than fit: every "fetch" (a put of
   * a blob that was missing) is of a blob evicted moments ago.
   */
  @Test
  void cyclicReadsOverASmallStore_areReportedAsThrashing() throws IOException {
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(tmp.resolve("s")).withMaxSize(4000))) {
      ThrashDetector detector = new ThrashDetector(Duration.ofMinutes(1), 4000, 3, clock, log);
      store.addEvictionListener(detector);
      List<byte[]> working = new ArrayList<>();
      for (int i = 0; i < 5; i++) {
        working.add(blob(1000, i));
      }
      for (int round = 0; round < 3; round++) {
        for (byte[] b : working) {
          Digest d = store.digestFunction().digestOf(b);
          if (!store.contains(d)) {
            store.put(d, b); // what a mount does on a miss: fetch into the local store
            detector.fetched(d);
          }
          clock.advance(Duration.ofSeconds(1));
        }
      }
      // Round 1 fetches all five (one eviction); rounds 2 and 3 re-fetch each just-evicted blob.
      assertThat(detector.refetches()).isEqualTo(10);
      assertThat(detector.refetchedBytes()).isEqualTo(10_000);
      assertThat(log.at(Level.WARNING)).singleElement().satisfies(w -> assertThat(w)
          .contains("thrashing", "3 blobs (2.9 KiB)", "within 1 min", "limit (3.9 KiB)", "--max-size"));
    }
  }

  @Test
  void fetchesLongAfterEviction_orOfNeverEvictedBlobs_areNotRefetches() {
    ThrashDetector detector = new ThrashDetector(Duration.ofMinutes(1), 1 << 20, 1, clock, log);
    Digest a = new Digest("a".repeat(64), 10);
    Digest b = new Digest("b".repeat(64), 10);
    detector.fetched(a);
    detector.evicted(b);
    clock.advance(Duration.ofMinutes(2));
    detector.fetched(b);
    assertThat(detector.refetches()).isZero();
    assertThat(log.lines).isEmpty();
  }

  @Test
  void warnings_areRateLimitedToOnePerWindow_andCountOnlyTheLastWindow() {
    ThrashDetector detector = new ThrashDetector(Duration.ofSeconds(10), 1 << 20, 2, clock, log);
    for (int i = 0; i < 100; i++) {
      Digest d = new Digest(String.format("%064x", i), 100);
      detector.evicted(d);
      clock.advance(Duration.ofMillis(500));
      detector.fetched(d);
    }
    // 50 s of steady thrashing, one warning per 10 s window.
    assertThat(log.at(Level.WARNING)).hasSize(5);
    assertThat(log.at(Level.WARNING).getLast()).contains("20 blobs (2.0 KiB)");
    assertThat(detector.refetches()).isEqualTo(100);
  }

  @Test
  void bindTo_exposesTheTotals() {
    ThrashDetector detector = new ThrashDetector(Duration.ofMinutes(1), 1 << 20, 1, clock, log);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    detector.bindTo(registry);
    Digest d = new Digest("c".repeat(64), 123);
    detector.evicted(d);
    detector.fetched(d);
    assertThat(registry.get("cairn.fuse.cache.refetches").functionCounter().count()).isEqualTo(1);
    assertThat(registry.get("cairn.fuse.cache.refetched").functionCounter().count()).isEqualTo(123);
  }

  @Test
  void attach_listensToTheStore() throws IOException {
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(tmp.resolve("t")).withMaxSize(1000))) {
      ThrashDetector detector = ThrashDetector.attach(store, Duration.ofMinutes(1), clock);
      Digest first = store.put(blob(600, 1));
      store.put(blob(600, 2)); // evicts the first
      store.put(first, new java.io.ByteArrayInputStream(blob(600, 1)));
      detector.fetched(first);
      assertThat(detector.refetches()).isEqualTo(1);
    }
  }
}
