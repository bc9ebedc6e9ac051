package dev.cairn.fuse.metrics;

import dev.cairn.core.digest.Digest;
import dev.cairn.store.disk.DiskBlobStore;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Tells when a mount's bounded local store is too small for what its users read: a blob fetched
 * from the remote again soon after the store evicted it is a <i>re-fetch</i>, and when at least
 * {@code minRefetches} happen within one {@code window}, a WARNING says so, with how many blobs
 * and bytes, and suggests a larger {@code --max-size}. At most one warning per window.
 *
 * <p>It listens to the store's evictions ({@link #attach}) and is told of each fetch by the mount
 * ({@link #fetched}). Memory is bounded: evictions older than the window are forgotten, and at
 * most {@value #MAX_TRACKED} are remembered. Thread-safe; {@link #evicted} is quick, as the
 * store's listeners must be.
 */
public final class ThrashDetector implements DiskBlobStore.EvictionListener {
  static final int MAX_TRACKED = 1_000_000;
  private static final Logger DEFAULT_LOG = System.getLogger(ThrashDetector.class.getName());

  private record Refetch(Instant at, long bytes) {}

  private final Duration window;
  private final long maxSizeBytes;
  private final int minRefetches;
  private final InstantSource clock;
  private final Logger log;
  /** Evicted blobs by time of eviction, oldest first. */
  private final LinkedHashMap<Digest, Instant> evictedAt = new LinkedHashMap<>(); // guarded by this
  /** Re-fetches within the last window, oldest first. */
  private final ArrayDeque<Refetch> recent = new ArrayDeque<>(); // guarded by this
  private long recentBytes; // guarded by this
  private long totalRefetches; // guarded by this
  private long totalRefetchedBytes; // guarded by this
  private Instant lastWarning; // guarded by this

  /**
   * A detector for a store limited to {@code maxSizeBytes} (named in the warning), warning at
   * 10 re-fetches within {@code window}.
   */
  public ThrashDetector(Duration window, long maxSizeBytes, InstantSource clock) {
    this(window, maxSizeBytes, 10, clock, DEFAULT_LOG);
  }

  ThrashDetector(Duration window, long maxSizeBytes, int minRefetches, InstantSource clock, Logger log) {
    if (window.isZero() || window.isNegative()) {
      throw new IllegalArgumentException("thrash window must be positive, got " + window);
    }
    if (minRefetches < 1) {
      throw new IllegalArgumentException("minRefetches must be at least 1, got " + minRefetches);
    }
    this.window = window;
    this.maxSizeBytes = maxSizeBytes;
    this.minRefetches = minRefetches;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.log = Objects.requireNonNull(log, "log");
  }

  /** A detector listening to {@code store}'s evictions, with its limit in the warning. */
  public static ThrashDetector attach(DiskBlobStore store, Duration window, InstantSource clock) {
    ThrashDetector d = new ThrashDetector(window, store.stats().maxSizeBytes(), clock);
    store.addEvictionListener(d);
    return d;
  }

  /** Publishes the totals as {@code cairn_fuse_cache_refetches_total} and {@code ..._refetched_bytes_total}. */
  public void bindTo(MeterRegistry registry) {
    FunctionCounter.builder("cairn.fuse.cache.refetches", this, ThrashDetector::refetches)
        .description("Blobs fetched again within the thrash window after the local store evicted them")
        .register(registry);
    FunctionCounter.builder("cairn.fuse.cache.refetched", this, ThrashDetector::refetchedBytes)
        .baseUnit("bytes").description("Bytes of those re-fetched blobs").register(registry);
  }

  @Override
  public synchronized void evicted(Digest digest) {
    Instant now = clock.instant();
    evictedAt.remove(digest);
    evictedAt.put(digest, now);
    forgetOld(now);
  }

  /** The mount fetched {@code digest} from the remote into the store. */
  public void fetched(Digest digest) {
    String warning;
    synchronized (this) {
      Instant now = clock.instant();
      forgetOld(now);
      Instant evicted = evictedAt.remove(digest);
      if (evicted == null) {
        return;
      }
      recent.addLast(new Refetch(now, digest.sizeBytes()));
      recentBytes += digest.sizeBytes();
      totalRefetches++;
      totalRefetchedBytes += digest.sizeBytes();
      warning = warningDue(now);
    }
    if (warning != null) {
      log.log(Level.WARNING, warning);
    }
  }

  private String warningDue(Instant now) {
    if (recent.size() < minRefetches || (lastWarning != null && now.isBefore(lastWarning.plus(window)))) {
      return null;
    }
    lastWarning = now;
    return String.format(Locale.ROOT, "the mount's local cache is thrashing: %d blobs (%s) were"
        + " fetched again within %s of being evicted, in the last %s; the store's limit (%s) is"
        + " smaller than what is being read: raise --max-size",
        recent.size(), bytes(recentBytes), human(window), human(window), bytes(maxSizeBytes));
  }

  private void forgetOld(Instant now) {
    Instant cutoff = now.minus(window);
    Iterator<Map.Entry<Digest, Instant>> it = evictedAt.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Digest, Instant> e = it.next();
      if (e.getValue().isAfter(cutoff) && evictedAt.size() <= MAX_TRACKED) {
        break;
      }
      it.remove();
    }
    while (!recent.isEmpty() && !recent.peekFirst().at().isAfter(cutoff)) {
      recentBytes -= recent.removeFirst().bytes();
    }
  }

  /** Re-fetches seen since the start. */
  public synchronized long refetches() {
    return totalRefetches;
  }

  /** Bytes of the re-fetched blobs since the start. */
  public synchronized long refetchedBytes() {
    return totalRefetchedBytes;
  }

  static String bytes(long n) {
    if (n < 1024) {
      return n + " B";
    }
    String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = n;
    int u = -1;
    while (v >= 1024 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
  }

  private static String human(Duration d) {
    long s = d.toSeconds();
    if (d.toMillisPart() != 0 || s == 0) {
      return d.toMillis() + " ms";
    } else if (s % 3600 == 0) {
      return s / 3600 + " h";
    } else if (s % 60 == 0) {
      return s / 60 + " min";
    }
    return s + " s";
  }
}
