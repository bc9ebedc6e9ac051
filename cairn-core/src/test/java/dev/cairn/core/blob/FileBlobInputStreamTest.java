package dev.cairn.core.blob;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileBlobInputStreamTest {
  @TempDir Path dir;

  private Path file(byte[] data) throws IOException {
    return Files.write(dir.resolve("blob"), data);
  }

  private static byte[] random(int n) {
    byte[] b = new byte[n];
    new Random(n).nextBytes(b);
    return b;
  }

  @Test
  void mapRest_startsAtThePosition_andStopsAtTheLimitOrTheEnd() throws IOException {
    byte[] data = random(100_000);
    FileChannel ch = FileChannel.open(file(data), StandardOpenOption.READ);
    ch.position(1000);
    try (FileBlobInputStream in = new FileBlobInputStream(ch)) {
      ByteBuffer limited = in.mapRest(500);
      assertThat(limited.remaining()).isEqualTo(500);
      byte[] got = new byte[500];
      limited.get(got);
      assertThat(got).isEqualTo(Arrays.copyOfRange(data, 1000, 1500));
      ByteBuffer rest = in.mapRest(Long.MAX_VALUE);
      assertThat(rest.remaining()).isEqualTo(99_000);
      in.close();
      assertThat(rest.get(98_999)).as("the mapping outlives the stream").isEqualTo(data[99_999]);
    }
  }

  @Test
  void streamMethods_readFromThePosition() throws IOException {
    byte[] data = random(70_000);
    FileChannel ch = FileChannel.open(file(data), StandardOpenOption.READ);
    ch.position(10);
    try (FileBlobInputStream in = new FileBlobInputStream(ch)) {
      assertThat(in.read()).isEqualTo(data[10] & 0xff);
      assertThat(in.skip(9)).isEqualTo(9);
      assertThat(in.available()).isEqualTo(70_000 - 20);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      assertThat(in.transferTo(out)).isEqualTo(70_000 - 20);
      assertThat(out.toByteArray()).isEqualTo(Arrays.copyOfRange(data, 20, 70_000));
      assertThat(in.read()).isEqualTo(-1);
    }
    assertThat(ch.isOpen()).isFalse();
  }
}
