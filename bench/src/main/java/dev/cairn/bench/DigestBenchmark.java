package dev.cairn.bench;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.nio.ByteBuffer;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Hashing speed of each {@link DigestFunction} on one core through {@link Hasher#update(ByteBuffer)}:
 * the ceiling for import throughput per hashing thread. {@code heap} is how
 * {@code MerkleTreeBuilder} feeds it; {@code direct} is the path a caller holding a direct buffer
 * (a network buffer, say) takes. Each op is a whole blob: new hasher, update, finish. Bytes per
 * second = ops/s x size.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DigestBenchmark {

  @Param({"SHA256", "BLAKE3"})
  public DigestFunction function;

  @Param({"4096", "1048576"})
  public int size;

  @Param({"heap", "direct"})
  public String buffer;

  private ByteBuffer data;

  @Setup
  public void setUp() {
    byte[] bytes = new byte[size];
    new Random(42).nextBytes(bytes);
    data = buffer.equals("heap") ? ByteBuffer.allocate(size) : ByteBuffer.allocateDirect(size);
    data.put(bytes).flip();
  }

  @Benchmark
  public Digest hash() {
    Hasher hasher = function.newHasher();
    hasher.update(data.duplicate());
    return hasher.finish();
  }
}
