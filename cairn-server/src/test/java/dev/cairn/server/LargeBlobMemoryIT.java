package dev.cairn.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import dev.cairn.grpc.GrpcBlobStore;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 4 GiB blob up and down through ByteStream, to a server whose heap is capped at 256 MiB: it
 * can only pass if bytes stream through and never accumulate in memory.
 */
class LargeBlobMemoryIT {
  static final long SIZE = Long.getLong("cairn.it.largeBlobBytes", 4L << 30);

  @TempDir Path dir;

  /** Deterministic, incompressible-enough bytes, generated on the fly. */
  static final class Generated extends InputStream {
    private final long size;
    private long pos;
    private long state = 0x9E3779B97F4A7C15L;

    Generated(long size) {
      this.size = size;
    }

    @Override
    public int read() {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
      if (pos >= size) {
        return -1;
      }
      int n = (int) Math.min(len, size - pos);
      for (int i = 0; i < n; i++) {
        if (((pos + i) & 7) == 0) {
          state ^= state << 13;
          state ^= state >>> 7;
          state ^= state << 17;
        }
        b[off + i] = (byte) (state >>> (((pos + i) & 7) * 8));
      }
      pos += n;
      return n;
    }
  }

  @Test
  void fourGiB_throughByteStream_withA256MiBServerHeap() throws Exception {
    Digest digest = DigestFunction.SHA256.digestOf(new Generated(SIZE));
    Process server = new ProcessBuilder(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseZGC", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("java.class.path"),
        ChildServer.class.getName(), dir.resolve("store").toString())
        .redirectError(ProcessBuilder.Redirect.INHERIT)
        .start();
    BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
    String first = out.readLine();
    assertThat(first).startsWith("port ");
    int port = Integer.parseInt(first.substring(5));
    long before = Long.parseLong(out.readLine().substring("heap-before ".length()));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    try (GrpcBlobStore remote = new GrpcBlobStore(channel, "", DigestFunction.SHA256)) {
      remote.put(digest, new Generated(SIZE));
      Hasher hasher = DigestFunction.SHA256.newHasher();
      try (InputStream in = remote.openRead(digest, 0)) {
        byte[] buffer = new byte[1 << 20];
        for (int n; (n = in.read(buffer)) >= 0; ) {
          hasher.update(buffer, 0, n);
        }
      }
      assertThat(hasher.finish()).isEqualTo(digest);
    } finally {
      server.getOutputStream().close();
      assertThat(server.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(server.exitValue()).as("the server survived with -Xmx256m").isZero();
      long after = Long.parseLong(out.readLine().substring("heap-after ".length()));
      long peak = Long.parseLong(out.readLine().substring("heap-peak ".length()));
      System.out.printf("LargeBlobMemoryIT: %d MiB blob, -Xmx256m server: heap retained %d MiB before,"
              + " %d MiB after, sampled peak %d MiB%n",
          SIZE >> 20, before >> 20, after >> 20, peak >> 20);
      assertThat(after - before).as("heap growth after moving the blob").isLessThan(16L << 20);
    }
  }
}
