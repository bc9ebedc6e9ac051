package dev.cairn.store.disk;

import java.util.ArrayList;
import java.util.List;

/**
 * Picks, from a batch of raw keys ({@link IndexScan#KEY} longs each), the selected ones, each key
 * once, in batch order: a small open-addressing set over key positions, so that a batch of
 * 100,000 digests needs no object per digest to drop its duplicates.
 */
final class UniqueKeys {
  private static final int KEY = IndexScan.KEY;

  private UniqueKeys() {}

  /** The {@code items} whose key is selected, the first of equal keys only. */
  static <T> List<T> select(long[] keys, boolean[] selected, List<T> items) {
    int count = 0;
    for (boolean s : selected) {
      if (s) {
        count++;
      }
    }
    List<T> out = new ArrayList<>(count);
    if (count == 0) {
      return out;
    }
    int size = Integer.highestOneBit(Math.max(2, count) * 2 - 1) << 1;
    int mask = size - 1;
    int[] table = new int[size]; // key position + 1, 0 = empty
    for (int i = 0; i < selected.length; i++) {
      if (!selected[i]) {
        continue;
      }
      int slot = mix(keys[i * KEY]) & mask;
      boolean seen = false;
      while (table[slot] != 0) {
        if (sameKey(keys, table[slot] - 1, i)) {
          seen = true;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if (!seen) {
        table[slot] = i + 1;
        out.add(items.get(i));
      }
    }
    return out;
  }

  private static int mix(long h) {
    long x = h * 0x9E3779B97F4A7C15L;
    return (int) (x ^ (x >>> 32));
  }

  private static boolean sameKey(long[] keys, int a, int b) {
    int x = a * KEY;
    int y = b * KEY;
    for (int k = 0; k < KEY; k++) {
      if (keys[x + k] != keys[y + k]) {
        return false;
      }
    }
    return true;
  }
}
