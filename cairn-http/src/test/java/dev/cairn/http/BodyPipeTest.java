package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class BodyPipeTest {
  private static ByteBuf bytes(int n, int value) {
    ByteBuf b = Unpooled.buffer(n);
    for (int i = 0; i < n; i++) {
      b.writeByte(value);
    }
    return b;
  }

  @Test
  void offer_saysStopAtHighWater_andResumeRunsBelowLowWater() throws IOException {
    AtomicInteger resumed = new AtomicInteger();
    BodyPipe pipe = new BodyPipe(100, 20, resumed::incrementAndGet);
    assertThat(pipe.offer(bytes(60, 1))).isTrue();
    assertThat(pipe.offer(bytes(60, 2))).isFalse();
    byte[] buf = new byte[90];
    assertThat(pipe.read(buf, 0, 90)).isEqualTo(90);
    assertThat(resumed).hasValue(0); // 30 left, above low water
    assertThat(pipe.read(buf, 0, 15)).isEqualTo(15);
    assertThat(resumed).hasValue(1);
    pipe.end();
    assertThat(pipe.read(buf, 0, 90)).isEqualTo(15);
    assertThat(pipe.read(buf, 0, 90)).isEqualTo(-1);
  }

  @Test
  void fail_releasesBuffers_andTheReaderGetsTheCause() {
    BodyPipe pipe = new BodyPipe(100, 20, () -> {});
    ByteBuf chunk = bytes(10, 1);
    pipe.offer(chunk);
    pipe.fail(new IOException("client went away"));
    assertThat(chunk.refCnt()).isZero();
    assertThatThrownBy(() -> pipe.read(new byte[10], 0, 10)).hasMessageContaining("client went away");
  }

  @Test
  void close_dropsLaterChunks_andLetsTheFeederGoOn() {
    AtomicInteger resumed = new AtomicInteger();
    BodyPipe pipe = new BodyPipe(10, 5, resumed::incrementAndGet);
    assertThat(pipe.offer(bytes(20, 1))).isFalse();
    pipe.close();
    assertThat(resumed).hasValue(1);
    ByteBuf late = bytes(20, 2);
    assertThat(pipe.offer(late)).isTrue();
    assertThat(late.refCnt()).isZero();
  }

  @Test
  void reader_waitsForTheFeeder() throws Exception {
    BodyPipe pipe = new BodyPipe(100, 20, () -> {});
    Thread feeder = Thread.ofVirtual().start(() -> {
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        return;
      }
      pipe.offer(bytes(3, 7));
      pipe.end();
    });
    assertThat(pipe.readAllBytes()).containsExactly(7, 7, 7);
    feeder.join();
  }
}
