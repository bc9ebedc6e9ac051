package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import java.io.BufferedReader;
import java.io.File;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A 4 GiB blob up, then down twice (zero-copy from its file, and streamed from the store),
 * through a server whose JVM has a 256 MiB heap: proof that blob bytes never gather on the heap.
 * {@code -Dcairn.it.largeBlobBytes=N} changes the size.
 */
class LargeBlobIT {
  private static final long SIZE = Long.getLong("cairn.it.largeBlobBytes", 4L << 30);

  @TempDir Path dir;

  @Test
  void fourGibibytes_upAndDown_throughA256MiBHeap() throws Exception {
    Path storeDir = LargeBlobTest.storeDir(dir, SIZE);
    List<String> command = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+ExitOnOutOfMemoryError", "--enable-native-access=ALL-UNNAMED",
        "-cp", System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"))
            .replace(File.pathSeparator + File.pathSeparator, File.pathSeparator),
        StandaloneServer.class.getName(), storeDir.toString()));
    Process server = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    try {
      Digest digest = PatternStream.digest(SIZE, 4242); // meanwhile, the server starts
      BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as("server's first line").startsWith("PORTS ");
      String[] ports = line.split(" ");
      var files = new InetSocketAddress("127.0.0.1", Integer.parseInt(ports[1]));
      var streams = new InetSocketAddress("127.0.0.1", Integer.parseInt(ports[2]));

      long t0 = System.nanoTime();
      LargeBlobTest.put(files, digest, 4242);
      long t1 = System.nanoTime();
      LargeBlobTest.getAndCompare(files, digest, 4242);
      long t2 = System.nanoTime();
      LargeBlobTest.getAndCompare(streams, digest, 4242);
      long t3 = System.nanoTime();
      System.out.printf("LargeBlobIT: %d MiB: put %d ms, zero-copy get %d ms, streamed get %d ms%n",
          SIZE >> 20, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
      assertThat(server.isAlive()).as("server survived with -Xmx256m").isTrue();
    } finally {
      server.getOutputStream().close(); // asks it to stop
      if (!server.waitFor(20, TimeUnit.SECONDS)) {
        server.destroyForcibly();
      }
      LargeBlobTest.deleteIfOnShm(storeDir);
    }
  }
}
