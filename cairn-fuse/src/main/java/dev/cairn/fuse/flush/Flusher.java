package dev.cairn.fuse.flush;

import dev.cairn.core.digest.Digest;
import dev.cairn.fuse.flush.RefPublisher.Published;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs a writable mount's flush policy: captures the tree (a {@code Callable<Digest>}, in practice
 * {@code OverlayDirectory::snapshot}) and publishes the root through a {@link RefPublisher} when
 * the policy says so, skipping the publish when the digest did not change.
 *
 * <p>The FUSE layer calls {@link #onWrite()} on every change (it feeds {@link FlushPolicy.Idle})
 * and {@link #onClose()} on RELEASE of a file it wrote (it triggers {@link FlushPolicy.OnClose},
 * asynchronously, coalesced: while a flush runs, any number of closes queue one more).
 * Timers do not fire flushes themselves: a periodic {@link #tick()} compares the injected clock
 * with the last flush and the last write, so tests drive time with a fake {@link InstantSource}
 * and call {@code tick()}. {@link #close()} stops the timers and flushes a last time, whatever
 * the policy.
 *
 * <p>A failed flush is logged and retried at the next trigger; only the final flush of {@link
 * #close()} throws. Flushes never overlap. Thread-safe.
 */
public final class Flusher implements AutoCloseable {
  private static final Logger DEFAULT_LOG = System.getLogger(Flusher.class.getName());

  private final FlushPolicy policy;
  private final Callable<Digest> capture;
  private final RefPublisher publisher;
  private final ScheduledExecutorService scheduler;
  private final boolean ownScheduler;
  private final InstantSource clock;
  private final Logger log;
  private final ReentrantLock flushing = new ReentrantLock();
  private final AtomicBoolean closeQueued = new AtomicBoolean();
  private volatile Instant lastWrite;
  private volatile Instant lastFlushStart;
  private Digest lastCaptured; // guarded by flushing
  private Published lastPublished; // guarded by flushing
  private ScheduledFuture<?> timer; // guarded by this
  private boolean closed; // guarded by this

  /**
   * A flusher with its own single daemon thread and the system clock; call {@link #start()}.
   *
   * @param lastPublishedRoot the digest the ref already has for this mount's tree (the mount's
   *     base), so that an unchanged tree is never published; empty if none
   */
  public static Flusher create(FlushPolicy policy, Callable<Digest> capture, RefPublisher publisher,
      Optional<Digest> lastPublishedRoot) {
    ScheduledExecutorService s = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "cairn-flush");
      t.setDaemon(true);
      return t;
    });
    return new Flusher(policy, capture, publisher, lastPublishedRoot, s, true,
        InstantSource.system(), DEFAULT_LOG);
  }

  /** A flusher on {@code scheduler} (not shut down by {@link #close()}) and {@code clock}. */
  public Flusher(FlushPolicy policy, Callable<Digest> capture, RefPublisher publisher,
      Optional<Digest> lastPublishedRoot, ScheduledExecutorService scheduler, InstantSource clock) {
    this(policy, capture, publisher, lastPublishedRoot, scheduler, false, clock, DEFAULT_LOG);
  }

  Flusher(FlushPolicy policy, Callable<Digest> capture, RefPublisher publisher,
      Optional<Digest> lastPublishedRoot, ScheduledExecutorService scheduler, boolean ownScheduler,
      InstantSource clock, Logger log) {
    this.policy = Objects.requireNonNull(policy, "policy");
    this.capture = Objects.requireNonNull(capture, "capture");
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.ownScheduler = ownScheduler;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.log = Objects.requireNonNull(log, "log");
    this.lastCaptured = lastPublishedRoot.orElse(null);
    Instant now = clock.instant();
    this.lastFlushStart = now;
    this.lastWrite = Instant.MIN;
  }

  /** Starts the timer of an interval or idle policy; other policies need none. */
  public synchronized void start() {
    if (closed || timer != null) {
      return;
    }
    Duration period = switch (policy) {
      case FlushPolicy.Interval i -> checkPeriod(i.period());
      case FlushPolicy.Idle i -> checkPeriod(i.quiet());
      case FlushPolicy.OnClose c -> null;
      case FlushPolicy.OnUnmount u -> null;
    };
    if (period != null) {
      long nanos = period.toNanos();
      timer = scheduler.scheduleWithFixedDelay(this::tick, nanos, nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** How often the clock is looked at: a tenth of the duration, between 50 ms and 1 s. */
  static Duration checkPeriod(Duration d) {
    Duration tenth = d.dividedBy(10);
    if (tenth.compareTo(Duration.ofMillis(50)) < 0) {
      return Duration.ofMillis(50);
    }
    return tenth.compareTo(Duration.ofSeconds(1)) > 0 ? Duration.ofSeconds(1) : tenth;
  }

  /** Activity: something in the mount changed now. */
  public void onWrite() {
    lastWrite = clock.instant();
  }

  /**
   * A file written through the mount was closed. With {@link FlushPolicy.OnClose}, schedules a
   * flush (one at most waits behind a running one) and returns it; otherwise counts as activity
   * and returns a completed future.
   */
  public Future<?> onClose() {
    onWrite();
    if (!(policy instanceof FlushPolicy.OnClose)) {
      return CompletableFuture.completedFuture(null);
    }
    synchronized (this) {
      if (closed) {
        return CompletableFuture.completedFuture(null);
      }
      if (!closeQueued.compareAndSet(false, true)) {
        return CompletableFuture.completedFuture(null); // the queued flush will see this close
      }
      return scheduler.submit(() -> {
        closeQueued.set(false);
        flushLogged("file closed");
      });
    }
  }

  /**
   * Looks at the clock: flushes if an interval has passed since the last flush, or if writes
   * have paused for the idle time since a write the last flush did not see. Called by the timer;
   * public so that tests (and a caller with its own timer) can drive it.
   */
  public void tick() {
    Instant now = clock.instant();
    switch (policy) {
      case FlushPolicy.Interval i -> {
        if (!now.isBefore(lastFlushStart.plus(i.period()))) {
          flushLogged("interval " + i.period());
        }
      }
      case FlushPolicy.Idle i -> {
        Instant w = lastWrite;
        if (!w.isBefore(lastFlushStart) && !now.isBefore(w.plus(i.quiet()))) {
          flushLogged("idle for " + i.quiet());
        }
      }
      case FlushPolicy.OnClose c -> { }
      case FlushPolicy.OnUnmount u -> { }
    }
  }

  private void flushLogged(String why) {
    try {
      flush();
    } catch (Exception e) {
      log.log(Level.WARNING, "flush (" + why + ") of ref " + publisher.name()
          + " failed; will try again at the next trigger and at unmount", e);
    }
  }

  /**
   * Captures the tree now and publishes its digest unless it equals the last one captured.
   *
   * @return what was published, or empty if the tree had not changed
   */
  public Optional<Published> flush() throws Exception {
    flushing.lock();
    try {
      lastFlushStart = clock.instant();
      Digest root = capture.call();
      if (root.equals(lastCaptured)) {
        return Optional.empty();
      }
      Published p = publisher.publish(root);
      lastCaptured = root;
      lastPublished = p;
      log.log(Level.INFO, "published " + root + " to ref " + p.ref());
      return Optional.of(p);
    } finally {
      flushing.unlock();
    }
  }

  /** The last publish of this flusher, if any. */
  public Optional<Published> lastPublished() {
    flushing.lock();
    try {
      return Optional.ofNullable(lastPublished);
    } finally {
      flushing.unlock();
    }
  }

  /**
   * Stops the timer, waits for a running flush, and flushes a last time (for every policy).
   *
   * @throws IOException if that final capture or publish fails (the tree was not published)
   */
  @Override
  public void close() throws IOException {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      if (timer != null) {
        timer.cancel(false);
      }
    }
    try {
      flush();
    } catch (IOException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException("final flush of ref " + publisher.name() + " failed", e);
    } finally {
      if (ownScheduler) {
        scheduler.shutdownNow();
      }
    }
  }
}
