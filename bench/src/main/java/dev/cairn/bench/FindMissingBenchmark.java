package dev.cairn.bench;

import dev.cairn.core.digest.Digest;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code DiskBlobStore.findMissing} with a batch of 1,000 digests, as Bazel sends
 * {@code FindMissingBlobs} before uploading an action's inputs: all present (answered from the
 * index), or all absent (each absent digest also costs a file-system lookup, because another
 * process sharing the directory may have written it). The store holds {@code blobs} blobs.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FindMissingBenchmark {
  private static final int BATCH = 1000;

  @Param({"100000"})
  public int blobs;

  private Path dir;
  private DiskBlobStore store;
  private List<Digest> present;
  private List<Digest> absent;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    dir = Files.createTempDirectory(Path.of("/tmp"), "cairn-findmissing-");
    SyntheticStore.generate(dir, blobs, Runtime.getRuntime().availableProcessors());
    store = DiskBlobStore.open(DiskStoreConfig.at(dir));
    present = new ArrayList<>();
    absent = new ArrayList<>();
    for (int i = 0; i < BATCH; i++) {
      present.add(SyntheticStore.digest((long) i * (blobs / BATCH)));
      absent.add(SyntheticStore.digest(blobs + (long) i));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    store.close();
    SyntheticStore.delete(dir);
  }

  @Benchmark
  public Set<Digest> allPresent() throws IOException {
    return store.findMissing(present);
  }

  @Benchmark
  public Set<Digest> allAbsent() throws IOException {
    return store.findMissing(absent);
  }
}
