package dev.cairn.store.disk;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.LongSupplier;

/**
 * Tells, per shard directory, whether the index is known to hold every blob file in it, so that a
 * digest the index lacks can be called missing without a file-system lookup of its own.
 *
 * <p>Several processes may share a store, so a digest absent from this process's index may still
 * be on disk. Checking each such digest costs a path lookup (about 2.6 µs); a large {@code
 * FindMissingBlobs} of new digests pays it tens of thousands of times. A directory's modification
 * time changes whenever a file is renamed into it or removed from it, so a shard whose time is
 * unchanged since the index was last known complete for it has gained no file since.
 *
 * <p>Why it is safe: file-system timestamps are coarse (a clock tick), so a change in the same tick
 * as the reading could leave the time unchanged. A shard is therefore only trusted once its time
 * lies {@link #SETTLE_NANOS} in the past when read: any later change gets a later time. And the
 * worst a wrong answer could do is call a blob missing that another process stored, which costs
 * the client a needless upload, never a wrong byte: a put of a blob already on disk adopts it.
 */
final class ShardClock {
  /** How long a shard's time must lie in the past before an unchanged time is trusted. */
  static final long SETTLE_NANOS = TimeUnit.SECONDS.toNanos(2);

  /** The time recorded for a shard the index is not known to be complete for. */
  static final long UNKNOWN = Long.MIN_VALUE;
  private static final long ABSENT = Long.MIN_VALUE + 1; // the shard directory does not exist

  private final Path casDir;
  private final LongSupplier wallClockNanos;
  private final AtomicLongArray verified = new AtomicLongArray(256); // index holds all files
  private final AtomicLongArray exact = new AtomicLongArray(256); // index holds just those files

  ShardClock(Path casDir, LongSupplier wallClockNanos) {
    this.casDir = casDir;
    this.wallClockNanos = wallClockNanos;
    for (int i = 0; i < 256; i++) {
      verified.set(i, UNKNOWN);
      exact.set(i, UNKNOWN);
    }
  }

  static ShardClock systemClock(Path casDir) {
    return new ShardClock(casDir, () -> {
      java.time.Instant now = java.time.Instant.now();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    });
  }

  /** A reading of one shard: its modification time, and whether that lies far enough back. */
  record Reading(int shard, long mtime, boolean settled) {
    boolean exists() {
      return mtime != ABSENT;
    }
  }

  /** Reads the shard's directory time now (one {@code stat}). */
  Reading read(int shard) throws IOException {
    long now = wallClockNanos.getAsLong();
    long mtime;
    try {
      mtime = Files.readAttributes(dir(shard), BasicFileAttributes.class)
          .lastModifiedTime().to(TimeUnit.NANOSECONDS);
    } catch (NoSuchFileException e) {
      mtime = ABSENT;
    }
    return new Reading(shard, mtime, mtime == ABSENT || now - mtime >= SETTLE_NANOS);
  }

  /** True if the index was known complete for the shard at the time {@code now} shows. */
  boolean isVerified(Reading now) {
    return now.settled() && verified.get(now.shard()) == now.mtime();
  }

  /**
   * True if the index held exactly the shard's files at the time {@code now} shows. Never for an
   * absent directory: one made and removed again since would read absent too (listing a missing
   * directory costs nothing).
   */
  boolean isExact(Reading now) {
    return now.exists() && now.settled() && exact.get(now.shard()) == now.mtime();
  }

  /**
   * Records that the index held every file of the shard as listed between {@code before} and
   * {@code after}: trusted only if nothing changed in between and the time had settled. {@code
   * exact} if the index held nothing else of the shard either (it was built from that listing),
   * which is what a saved snapshot may vouch for; a listing that only added files the index
   * lacked leaves entries of files deleted meanwhile, so it is not exact.
   */
  void verified(Reading before, Reading after, boolean exact) {
    if (before.settled() && before.mtime() == after.mtime()) {
      verified.set(before.shard(), before.mtime());
      if (exact) {
        this.exact.set(before.shard(), before.mtime());
      }
    }
  }

  /**
   * Whether the shard still has the time a saved index snapshot recorded for it ({@link #UNKNOWN}
   * if none): then the snapshot names exactly its files, and the shard counts as verified and
   * exact from now on. One {@code stat}, none for a shard the snapshot did not vouch for.
   */
  boolean trustSaved(int shard, long savedTime) throws IOException {
    if (savedTime == UNKNOWN) {
      return false;
    }
    Reading now = read(shard);
    if (!now.exists() || !now.settled() || now.mtime() != savedTime) {
      return false;
    }
    verified.set(shard, savedTime);
    exact.set(shard, savedTime);
    return true;
  }

  /**
   * Per shard, the time at which the index held exactly its files, if that still holds now (one
   * {@code stat} each), else {@link #UNKNOWN}: what a snapshot of the index can vouch for.
   */
  long[] exactTimes() throws IOException {
    long[] times = new long[256];
    for (int s = 0; s < 256; s++) {
      Reading r = read(s);
      times[s] = r.exists() && r.settled() && exact.get(s) == r.mtime() ? r.mtime() : UNKNOWN;
    }
    return times;
  }

  Path dir(int shard) {
    return casDir.resolve(name(shard));
  }

  static String name(int shard) {
    return "" + Character.forDigit(shard >> 4, 16) + Character.forDigit(shard & 15, 16);
  }

  /** The shard a directory name stands for, or -1 if it is not two lowercase hex digits. */
  static int parse(String name) {
    if (name.length() != 2) {
      return -1;
    }
    int hi = lowerHex(name.charAt(0));
    int lo = lowerHex(name.charAt(1));
    return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
  }

  private static int lowerHex(char c) {
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
  }
}
