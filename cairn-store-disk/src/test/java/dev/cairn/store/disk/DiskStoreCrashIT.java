package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.VerifyingBlobStore;
import dev.cairn.core.digest.Digest;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a writer process with SIGKILL at random moments, then reopens the store: every blob the
 * writer reported stored is still there, every blob on disk matches its digest, and no temp file
 * is left behind.
 */
class DiskStoreCrashIT {
  @TempDir Path dir;

  @Test
  void killedWriter_neverLeavesACorruptOrLostBlob() throws Exception {
    Path root = dir.resolve("store");
    Random random = new Random(42);
    List<Digest> reported = new ArrayList<>();
    for (int round = 0; round < 6; round++) {
      Process writer = new ProcessBuilder(
          Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"),
          CrashWriter.class.getName(), root.toString(), Long.toString(round))
          .redirectError(ProcessBuilder.Redirect.INHERIT)
          .start();
      List<Digest> thisRound = new ArrayList<>();
      Thread reader = Thread.ofPlatform().start(() -> {
        try (BufferedReader in = new BufferedReader(
            new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line; (line = in.readLine()) != null; ) {
            synchronized (thisRound) {
              thisRound.add(Digest.parse(line));
            }
          }
        } catch (IOException | IllegalArgumentException e) {
          // the pipe breaks when the writer dies mid-line
        }
      });
      Thread.sleep(700 + random.nextInt(1500));
      writer.destroyForcibly(); // SIGKILL
      assertThat(writer.waitFor(30, TimeUnit.SECONDS)).isTrue();
      reader.join();
      synchronized (thisRound) {
        reported.addAll(thisRound);
      }

      try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(root))) {
        assertThat(listFiles(root.resolve("tmp"))).as("temp files after restart").isEmpty();
        assertThat(store.findMissing(reported)).as("blobs reported stored").isEmpty();
        BlobStore verifying = new VerifyingBlobStore(store);
        for (Path file : listFiles(root.resolve("cas"))) {
          Digest d = IndexScan.parse(file.getFileName().toString());
          try (InputStream in = verifying.openRead(d, 0)) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
          }
        }
      }
    }
    assertThat(reported).as("the writer made progress").hasSizeGreaterThan(20);
  }

  private static List<Path> listFiles(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(Files::isRegularFile).toList();
    }
  }
}
