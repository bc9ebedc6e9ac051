package dev.cairn.http;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Small blobs' files kept open between requests, so that a repeated GET hit costs neither an
 * {@code openat(2)} nor a {@code close(2)}: under a GET load those two were about 15% of the
 * server's CPU per hit. Only files the caller has already found in the store's index are
 * offered, and the store tells {@link #removed} of every blob it evicts or drops, which closes
 * its entry; readers still check each file's length on every read (the channel's inode is what
 * is read, whatever the directory says now).
 *
 * <p><b>Bounds</b>: at most {@code capacity} entries, each one file descriptor and about 0.6 KiB
 * of heap (the channel, its descriptor and cleaner, the digest; from a class histogram of 1,000
 * entries): 4,096 entries are 4,096 descriptors and ~2.5 MiB.
 * A file the store has since deleted stays open (its disk space held) only until its entry is
 * closed: at once for blobs this process evicts or drops, at the next replacement for a blob
 * another process sharing the directory deletes. Entries are replaced by the clock algorithm (a
 * use sets a bit, the hand clears it, an entry found unset is closed).
 *
 * <p>Thread-safe and never blocking, for event loops: a lookup is a map probe; an insertion
 * takes a lock only if it is free (else the file is used once and closed, as without the cache).
 * A channel may be closed while another thread reads it: {@link FileChannel}'s close waits for
 * readers to leave the system call and never lets the descriptor be reused under them, and the
 * reader gets a {@link java.nio.channels.ClosedChannelException}. Readers must read with
 * positions ({@code read(buffer, position)}): channels are shared.
 */
final class OpenBlobFiles implements AutoCloseable {
  /** The default bound; see the class comment and docs/PERFORMANCE.md for how it was chosen. */
  static final int DEFAULT_CAPACITY = 4096;

  private static final class Entry {
    final Digest digest;
    final FileChannel channel;
    volatile boolean used;
    volatile boolean removed; // its slot may be taken; its channel is (being) closed

    Entry(Digest digest, FileChannel channel) {
      this.digest = digest;
      this.channel = channel;
    }
  }

  private final ConcurrentHashMap<Digest, Entry> entries;
  private final ReentrantLock insertion = new ReentrantLock();
  private final Entry[] ring; // guarded by insertion: every entry of the map is in a slot
  private int hand; // guarded by insertion
  private final AtomicLong removals = new AtomicLong();
  private final LongAdder hits = new LongAdder();
  private final LongAdder misses = new LongAdder();
  private final LongAdder replaced = new LongAdder();
  private final LongAdder closedByStore = new LongAdder();
  private volatile boolean closed;

  OpenBlobFiles(int capacity) {
    if (capacity <= 0) {
      throw new IllegalArgumentException("open-file cache capacity must be positive, got " + capacity);
    }
    this.ring = new Entry[capacity];
    this.entries = new ConcurrentHashMap<>(capacity * 2);
  }

  int capacity() {
    return ring.length;
  }

  /** The open file of this blob, if cached; counts as a use. The caller must not close it. */
  FileChannel find(Digest digest) {
    Entry e = entries.get(digest);
    if (e == null) {
      misses.increment();
      return null;
    }
    if (!e.used) {
      e.used = true; // written only when unset: hits on other cores do not fight over the line
    }
    hits.increment();
    return e.channel;
  }

  /**
   * A stamp to take before looking the blob up in the store's index, and to hand to {@link
   * #offer}: a blob removed in between is then never cached.
   */
  long stamp() {
    return removals.get();
  }

  /**
   * Offers the just-opened file of a blob the store's index held when {@code stamp} was taken.
   * True if the cache took it: then it owns the channel, and the caller reads it but must not
   * close it. False if not (full of recently used files, another thread inserting, a removal
   * since the stamp, already cached): the caller keeps it and closes it.
   */
  boolean offer(Digest digest, FileChannel channel, long stamp) {
    if (closed || !insertion.tryLock()) {
      return false;
    }
    try {
      if (closed || removals.get() != stamp) {
        return false;
      }
      Entry entry = new Entry(digest, channel);
      if (entries.putIfAbsent(digest, entry) != null) {
        return false;
      }
      if (removals.get() != stamp) { // removed() ran after the first check: its remove may have missed us
        entries.remove(digest, entry);
        return false;
      }
      ring[freeSlot()] = entry;
      return true;
    } finally {
      insertion.unlock();
    }
  }

  /** The clock: a slot that is empty, removed, or unused since the hand last passed. */
  private int freeSlot() {
    for (int steps = 0; ; steps++) {
      int slot = hand;
      hand = slot + 1 == ring.length ? 0 : slot + 1;
      Entry e = ring[slot];
      if (e == null || e.removed) {
        return slot;
      }
      if (e.used && steps < 2 * ring.length) {
        e.used = false;
        continue;
      }
      if (entries.remove(e.digest, e)) {
        e.removed = true;
        closeQuietly(e.channel);
        replaced.increment();
      }
      return slot;
    }
  }

  /**
   * The store removed this blob (evicted or dropped): its entry, if any, is closed now. Quick and
   * lock-free, as the store calls it with its own lock held.
   */
  void removed(Digest digest) {
    removals.incrementAndGet(); // before the remove: see offer
    Entry e = entries.remove(digest);
    if (e != null) {
      e.removed = true;
      closeQuietly(e.channel);
      closedByStore.increment();
    }
  }

  /**
   * Closes the entry of {@code digest} if it still holds {@code channel}: a read through it failed
   * or found the wrong length, so it is not used again.
   */
  void discard(Digest digest, FileChannel channel) {
    Entry e = entries.get(digest);
    if (e != null && e.channel == channel && entries.remove(digest, e)) {
      e.removed = true;
      closeQuietly(e.channel);
    }
  }

  long hits() {
    return hits.sum();
  }

  long misses() {
    return misses.sum();
  }

  /** Entries closed to make room for others. */
  long replaced() {
    return replaced.sum();
  }

  /** Entries closed because the store evicted or dropped their blob. */
  long closedByStore() {
    return closedByStore.sum();
  }

  /** Open files now. */
  int size() {
    return entries.size();
  }

  /** Closes every open file; later offers are refused. */
  @Override
  public void close() {
    closed = true;
    insertion.lock();
    try {
      for (Entry e : entries.values()) {
        if (entries.remove(e.digest, e)) {
          e.removed = true;
          closeQuietly(e.channel);
        }
      }
    } finally {
      insertion.unlock();
    }
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // a read-only file: nothing was lost
    }
  }
}
