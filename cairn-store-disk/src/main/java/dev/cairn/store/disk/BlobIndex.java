package dev.cairn.store.disk;

import dev.cairn.core.digest.Digest;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * The disk store's in-memory index: which blobs are on disk, their sizes, and their order of
 * last use. It is a hand-rolled open-addressing hash table over parallel primitive arrays with an
 * intrusive doubly linked LRU list, because a map of objects costs several hundred bytes per
 * entry and the index must hold millions of blobs in under 100 bytes each (about 56 here: 32
 * bytes of hash, 8 of size, 8 of list links, 4-8 of table slot).
 *
 * <p>Not thread-safe: {@link DiskBlobStore} guards it with its lock.
 */
final class BlobIndex {
  private static final int NONE = -1;

  // Entry storage, indexed by entry id.
  private long[] hashes; // 4 longs per entry
  private long[] sizes;
  private int[] prev;
  private int[] next; // also links the free list
  private int entryCapacity;
  private int freeHead = NONE;
  private int highWater; // ids below this have been used at least once

  // Hash table of entry id + 1 (0 = empty slot), linear probing, power-of-two length.
  private int[] table;
  private int mask;

  private int head = NONE; // least recently used
  private int tail = NONE; // most recently used
  private int count;
  private long bytes;
  private long changes; // adds, removes and moves in the LRU order

  /** Receives one entry as its raw key: the hash as four big-endian words, and the size. */
  @FunctionalInterface
  interface RawVisitor {
    void visit(long h0, long h1, long h2, long h3, long size) throws java.io.IOException;
  }

  BlobIndex(int expectedEntries) {
    entryCapacity = Math.max(16, expectedEntries);
    hashes = new long[entryCapacity * 4];
    sizes = new long[entryCapacity];
    prev = new int[entryCapacity];
    next = new int[entryCapacity];
    int tableSize = Integer.highestOneBit(Math.max(32, entryCapacity * 2 - 1)) << 1;
    table = new int[tableSize];
    mask = tableSize - 1;
  }

  int count() {
    return count;
  }

  long bytes() {
    return bytes;
  }

  /** Grows, or not, with every add, remove and change of order: equal values, same index. */
  long changes() {
    return changes;
  }

  /** If present, marks the blob most recently used and returns true. */
  boolean touch(Digest digest) {
    return touch(word(digest, 0), word(digest, 1), word(digest, 2), word(digest, 3),
        digest.sizeBytes());
  }

  /** {@link #touch(Digest)} of a raw key. */
  boolean touch(long h0, long h1, long h2, long h3, long size) {
    int id = find(h0, h1, h2, h3, size);
    if (id == NONE) {
      return false;
    }
    moveToTail(id);
    return true;
  }

  boolean contains(Digest digest) {
    return find(word(digest, 0), word(digest, 1), word(digest, 2), word(digest, 3),
        digest.sizeBytes()) != NONE;
  }

  /** {@link #contains(Digest)} of a raw key. */
  boolean contains(long h0, long h1, long h2, long h3, long size) {
    return find(h0, h1, h2, h3, size) != NONE;
  }

  /**
   * The size of the entry whose hash is that of {@code probe} whatever its size, marked most
   * recently used; -1 if none. (Slots depend on the hash alone, so this is one probe run, like
   * {@link #find}.) The caller already has the hash's text, so none is built here.
   */
  long touchByHash(Digest probe) {
    long h0 = word(probe, 0);
    long h1 = word(probe, 1);
    long h2 = word(probe, 2);
    long h3 = word(probe, 3);
    for (int slot = slotOf(h0); ; slot = (slot + 1) & mask) {
      int v = table[slot];
      if (v == 0) {
        return -1;
      }
      int id = v - 1;
      int b = id * 4;
      if (hashes[b] == h0 && hashes[b + 1] == h1 && hashes[b + 2] == h2 && hashes[b + 3] == h3) {
        moveToTail(id);
        return sizes[id];
      }
    }
  }

  /** Adds the blob as most recently used; returns false (and touches it) if already present. */
  boolean add(Digest digest) {
    return add(word(digest, 0), word(digest, 1), word(digest, 2), word(digest, 3),
        digest.sizeBytes());
  }

  /** {@link #add(Digest)} of a raw key (a hash that {@link #parseHash} accepted, a size >= 0). */
  boolean add(long h0, long h1, long h2, long h3, long size) {
    int existing = find(h0, h1, h2, h3, size);
    if (existing != NONE) {
      moveToTail(existing);
      return false;
    }
    int id = allocate();
    int b = id * 4;
    hashes[b] = h0;
    hashes[b + 1] = h1;
    hashes[b + 2] = h2;
    hashes[b + 3] = h3;
    sizes[id] = size;
    linkAtTail(id);
    if ((count + 1) * 2L > table.length) {
      growTable();
    }
    insertIntoTable(id);
    count++;
    bytes += size;
    changes++;
    return true;
  }

  /** Adds the blob as least recently used (for entries whose last use is unknown). */
  boolean addOldest(Digest digest) {
    if (!add(digest)) {
      return false;
    }
    int id = tail;
    unlink(id);
    linkAtHead(id);
    return true;
  }

  boolean remove(Digest digest) {
    int id = find(word(digest, 0), word(digest, 1), word(digest, 2), word(digest, 3),
        digest.sizeBytes());
    if (id == NONE) {
      return false;
    }
    removeId(id);
    return true;
  }

  /** The least recently used blob, or null if empty. */
  Digest oldest() {
    return head == NONE ? null : digestOf(head);
  }

  /** Visits entries from least to most recently used. */
  void forEachOldestFirst(java.util.function.Consumer<Digest> action) {
    for (int id = head; id != NONE; id = next[id]) {
      action.accept(digestOf(id));
    }
  }

  /** Visits entries from least to most recently used, as raw keys (no object per entry). */
  void forEachOldestFirstRaw(RawVisitor visitor) throws java.io.IOException {
    for (int id = head; id != NONE; id = next[id]) {
      int b = id * 4;
      visitor.visit(hashes[b], hashes[b + 1], hashes[b + 2], hashes[b + 3], sizes[id]);
    }
  }

  private Digest digestOf(int id) {
    int b = id * 4;
    return digestOf(hashes[b], hashes[b + 1], hashes[b + 2], hashes[b + 3], sizes[id]);
  }

  /** The digest of a raw key. */
  static Digest digestOf(long h0, long h1, long h2, long h3, long size) {
    HexFormat hex = HexFormat.of();
    String text = hex.toHexDigits(h0) + hex.toHexDigits(h1) + hex.toHexDigits(h2)
        + hex.toHexDigits(h3);
    return new Digest(text, size);
  }

  private void removeId(int id) {
    deleteFromTable(id);
    unlink(id);
    count--;
    bytes -= sizes[id];
    changes++;
    next[id] = freeHead;
    freeHead = id;
  }

  private int find(long h0, long h1, long h2, long h3, long size) {
    for (int slot = slotOf(h0); ; slot = (slot + 1) & mask) {
      int v = table[slot];
      if (v == 0) {
        return NONE;
      }
      int id = v - 1;
      int b = id * 4;
      if (hashes[b] == h0 && hashes[b + 1] == h1 && hashes[b + 2] == h2 && hashes[b + 3] == h3
          && sizes[id] == size) {
        return id;
      }
    }
  }

  // The hash alone picks the slot (not the size), so that a blob can be found by hash alone:
  // protocols such as Bazel's HTTP cache address blobs without their size. Verified content
  // determines its size, so entries never share a hash in practice.
  private int slotOf(long h0) {
    long x = h0 * 0x9E3779B97F4A7C15L;
    x ^= x >>> 29;
    return (int) x & mask;
  }

  private static long word(Digest digest, int i) {
    String hash = digest.hash();
    return Long.parseUnsignedLong(hash, i * 16, i * 16 + 16, 16);
  }

  private static final byte[] HEX_VALUE = new byte[128];

  static {
    java.util.Arrays.fill(HEX_VALUE, (byte) -1);
    for (int c = '0'; c <= '9'; c++) {
      HEX_VALUE[c] = (byte) (c - '0');
    }
    for (int c = 'a'; c <= 'f'; c++) {
      HEX_VALUE[c] = (byte) (c - 'a' + 10);
    }
  }

  /**
   * Parses the 64 lowercase hex digits at the start of {@code text} into four big-endian words
   * (the raw key {@link #add(long, long, long, long, long)} takes); false, with {@code words}
   * undefined, if they are not exactly that. The same words {@code word(digest, i)} gives.
   */
  static boolean parseHash(String text, long[] words) {
    if (text.length() < Digest.HASH_HEX_LENGTH) {
      return false;
    }
    int bad = 0;
    for (int w = 0; w < 4; w++) {
      long v = 0;
      for (int i = w * 16, end = i + 16; i < end; i++) {
        char c = text.charAt(i);
        int d = c < 128 ? HEX_VALUE[c] : -1;
        bad |= d;
        v = (v << 4) | (d & 0xf);
      }
      words[w] = v;
    }
    return bad >= 0;
  }

  private int allocate() {
    if (freeHead != NONE) {
      int id = freeHead;
      freeHead = next[id];
      return id;
    }
    if (highWater == entryCapacity) {
      int newCapacity = entryCapacity + (entryCapacity >> 1) + 1;
      hashes = Arrays.copyOf(hashes, newCapacity * 4);
      sizes = Arrays.copyOf(sizes, newCapacity);
      prev = Arrays.copyOf(prev, newCapacity);
      next = Arrays.copyOf(next, newCapacity);
      entryCapacity = newCapacity;
    }
    return highWater++;
  }

  private void insertIntoTable(int id) {
    int slot = slotOf(hashes[id * 4]);
    while (table[slot] != 0) {
      slot = (slot + 1) & mask;
    }
    table[slot] = id + 1;
  }

  private void deleteFromTable(int id) {
    int slot = slotOf(hashes[id * 4]);
    while (table[slot] != id + 1) {
      slot = (slot + 1) & mask;
    }
    // Backward-shift deletion: pull later members of the probe run into the hole.
    int hole = slot;
    int j = hole;
    while (true) {
      j = (j + 1) & mask;
      int v = table[j];
      if (v == 0) {
        break;
      }
      int home = slotOf(hashes[(v - 1) * 4]);
      // Move v into the hole unless its home lies cyclically in (hole, j].
      boolean homeBetween = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
      if (!homeBetween) {
        table[hole] = v;
        hole = j;
      }
    }
    table[hole] = 0;
  }

  private void growTable() {
    int[] old = table;
    table = new int[old.length * 2];
    mask = table.length - 1;
    for (int v : old) {
      if (v != 0) {
        insertIntoTable(v - 1);
      }
    }
  }

  private void linkAtTail(int id) {
    prev[id] = tail;
    next[id] = NONE;
    if (tail != NONE) {
      next[tail] = id;
    } else {
      head = id;
    }
    tail = id;
  }

  private void linkAtHead(int id) {
    next[id] = head;
    prev[id] = NONE;
    if (head != NONE) {
      prev[head] = id;
    } else {
      tail = id;
    }
    head = id;
  }

  private void unlink(int id) {
    int p = prev[id];
    int n = next[id];
    if (p != NONE) {
      next[p] = n;
    } else {
      head = n;
    }
    if (n != NONE) {
      prev[n] = p;
    } else {
      tail = p;
    }
  }

  private void moveToTail(int id) {
    if (id != tail) {
      unlink(id);
      linkAtTail(id);
      changes++;
    }
  }
}
