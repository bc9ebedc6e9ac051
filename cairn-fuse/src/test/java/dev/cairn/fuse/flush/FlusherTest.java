package dev.cairn.fuse.flush;

import static dev.cairn.fuse.flush.RefPublisherTest.digest;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.digest.Digest;
import dev.cairn.fuse.FakeClock;
import dev.cairn.fuse.RecordingLogger;
import dev.cairn.fuse.flush.RefPublisher.Published;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class FlusherTest {
  private static final Digest BASE = digest("base");

  private final RefPublisherTest.MemoryRefs refs = new RefPublisherTest.MemoryRefs();
  private final FakeClock clock = new FakeClock();
  private final RecordingLogger log = new RecordingLogger();
  private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();
  /** The tree's digest as the next capture will find it. */
  private final AtomicReference<Digest> tree = new AtomicReference<>(BASE);
  private final AtomicInteger captures = new AtomicInteger();
  private final Callable<Digest> capture = () -> {
    captures.incrementAndGet();
    return tree.get();
  };

  @AfterEach
  void stop() {
    scheduler.shutdownNow();
  }

  private Flusher flusher(FlushPolicy policy, Callable<Digest> capture, InstantSource clock) {
    refs.set("app", BASE);
    RefPublisher publisher = new RefPublisher(refs, "app", Optional.of(BASE), log);
    return new Flusher(policy, capture, publisher, Optional.of(BASE), scheduler, false, clock, log);
  }

  @Test
  void onUnmount_publishesOnlyAtClose() throws Exception {
    Flusher f = flusher(new FlushPolicy.OnUnmount(), capture, clock);
    f.start();
    tree.set(digest("v1"));
    f.onWrite();
    f.onClose().get();
    clock.advance(Duration.ofDays(1));
    f.tick();
    assertThat(captures).hasValue(0);
    f.close();
    assertThat(refs.get("app")).contains(digest("v1"));
    assertThat(f.lastPublished()).contains(new Published("app", digest("v1"), false));
    f.close();
    assertThat(captures).as("close is idempotent").hasValue(1);
  }

  @Test
  void unchangedTree_isCapturedButNeverPublished() throws Exception {
    Flusher f = flusher(new FlushPolicy.OnUnmount(), capture, clock);
    refs.set("app", digest("moved by someone"));
    f.close();
    assertThat(captures).hasValue(1);
    assertThat(f.lastPublished()).isEmpty();
    assertThat(refs.refs).doesNotContainKey("app.conflict-1");
  }

  @Test
  void interval_flushesWhenThePeriodHasPassed_andSkipsUnchangedDigests() throws Exception {
    Flusher f = flusher(new FlushPolicy.Interval(Duration.ofSeconds(30)), capture, clock);
    tree.set(digest("v1"));
    clock.advance(Duration.ofSeconds(29));
    f.tick();
    assertThat(captures).hasValue(0);
    clock.advance(Duration.ofSeconds(1));
    f.tick();
    assertThat(captures).hasValue(1);
    assertThat(refs.get("app")).contains(digest("v1"));
    f.tick();
    assertThat(captures).as("not again before another period").hasValue(1);
    clock.advance(Duration.ofSeconds(30));
    f.tick();
    assertThat(captures).hasValue(2);
    assertThat(f.lastPublished().map(Published::root)).contains(digest("v1"));
    tree.set(digest("v2"));
    clock.advance(Duration.ofSeconds(30));
    f.tick();
    assertThat(refs.get("app")).contains(digest("v2"));
  }

  @Test
  void idle_flushesOnceWritesHavePaused() throws Exception {
    Flusher f = flusher(new FlushPolicy.Idle(Duration.ofSeconds(10)), capture, clock);
    clock.advance(Duration.ofMinutes(5));
    f.tick();
    assertThat(captures).as("no write, nothing to flush").hasValue(0);
    tree.set(digest("v1"));
    f.onWrite();
    clock.advance(Duration.ofSeconds(6));
    f.onWrite();
    clock.advance(Duration.ofSeconds(6));
    f.tick();
    assertThat(captures).as("the last write was 6 s ago").hasValue(0);
    clock.advance(Duration.ofSeconds(4));
    f.tick();
    assertThat(captures).hasValue(1);
    assertThat(refs.get("app")).contains(digest("v1"));
    clock.advance(Duration.ofMinutes(1));
    f.tick();
    assertThat(captures).as("no write since the flush").hasValue(1);
    tree.set(digest("v2"));
    f.onWrite();
    clock.advance(Duration.ofSeconds(10));
    f.tick();
    assertThat(refs.get("app")).contains(digest("v2"));
  }

  @Test
  void onClose_flushesAsynchronously_andCoalescesClosesDuringAFlush() throws Exception {
    CountDownLatch inCapture = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Callable<Digest> slow = () -> {
      captures.incrementAndGet();
      inCapture.countDown();
      release.await(10, TimeUnit.SECONDS);
      return tree.get();
    };
    Flusher f = flusher(new FlushPolicy.OnClose(), slow, clock);
    tree.set(digest("v1"));
    Future<?> first = f.onClose();
    assertThat(inCapture.await(10, TimeUnit.SECONDS)).isTrue();
    tree.set(digest("v2"));
    Future<?> queued = f.onClose();
    for (int i = 0; i < 50; i++) {
      f.onClose();
    }
    release.countDown();
    first.get(10, TimeUnit.SECONDS);
    queued.get(10, TimeUnit.SECONDS);
    assertThat(captures).as("one running, one queued for the 51 closes during it").hasValue(2);
    assertThat(refs.get("app")).contains(digest("v2"));
  }

  @Test
  void failedFlush_isLoggedAndRetried_butTheFinalOneThrows() throws Exception {
    AtomicReference<Exception> failure = new AtomicReference<>(new IOException("disk on fire"));
    Callable<Digest> flaky = () -> {
      captures.incrementAndGet();
      if (failure.get() != null) {
        throw failure.get();
      }
      return tree.get();
    };
    Flusher f = flusher(new FlushPolicy.Interval(Duration.ofSeconds(1)), flaky, clock);
    tree.set(digest("v1"));
    clock.advance(Duration.ofSeconds(1));
    f.tick();
    assertThat(log.at(Level.WARNING)).singleElement().satisfies(w -> assertThat(w).contains("ref app", "failed"));
    assertThat(log.lines.getFirst().thrown()).hasMessage("disk on fire");
    failure.set(null);
    clock.advance(Duration.ofSeconds(1));
    f.tick();
    assertThat(refs.get("app")).contains(digest("v1"));
    tree.set(digest("v2"));
    failure.set(new IllegalStateException("capture broke"));
    assertThatThrownBy(f::close).isInstanceOf(IllegalStateException.class);
    assertThat(refs.get("app")).contains(digest("v1"));
  }

  @Test
  void start_runsTheTimerOnTheScheduler() throws Exception {
    Flusher f = flusher(new FlushPolicy.Interval(Duration.ofMillis(100)), capture, InstantSource.system());
    tree.set(digest("v1"));
    f.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (refs.get("app").orElseThrow().equals(BASE) && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(refs.get("app")).contains(digest("v1"));
    f.close();
  }

  @Test
  void checkPeriod_isATenthBetween50msAnd1s() {
    assertThat(Flusher.checkPeriod(Duration.ofMillis(100))).isEqualTo(Duration.ofMillis(50));
    assertThat(Flusher.checkPeriod(Duration.ofSeconds(5))).isEqualTo(Duration.ofMillis(500));
    assertThat(Flusher.checkPeriod(Duration.ofHours(1))).isEqualTo(Duration.ofSeconds(1));
  }
}
