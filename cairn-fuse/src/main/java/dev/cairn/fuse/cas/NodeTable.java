package dev.cairn.fuse.cas;

import dev.cairn.core.digest.Digest;
import dev.cairn.fuse.cas.Listing.Child;
import dev.cairn.fuse.cas.Listing.Kind;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntConsumer;

/**
 * The nodes the kernel currently knows, with their lookup counts. A node lives from its first
 * lookup until FORGET brings its count to zero, so memory follows what the kernel caches, not the
 * size of the tree.
 *
 * <p>File node ids are derived from (digest, executable): the same content anywhere in the mount
 * is one inode, so the kernel's page cache and attribute cache are shared. The id is the digest's
 * first 8 bytes with the top bit set (the low bit is the executable flag); the rare collision of
 * two different keys falls back to a counter id. Directories and symlinks get counter ids per
 * (parent, name): a directory must have one place in the kernel's dentry tree, so identical
 * subtrees cannot share an inode. Thread-safe (one lock; operations are a few map lookups).
 */
final class NodeTable {

  /** A node: what it is, how many lookups the kernel holds, its passthrough backing id. */
  static final class Node {
    final long id;
    final Object key;
    final Kind kind;
    final Digest digest; // file content or directory message; null for symlinks
    final boolean executable;
    final String target; // symlinks only
    long lookups;
    int backingId; // 0: none registered

    Node(long id, Object key, Kind kind, Digest digest, boolean executable, String target) {
      this.id = id;
      this.key = key;
      this.kind = kind;
      this.digest = digest;
      this.executable = executable;
      this.target = target;
    }
  }

  private record FileKey(Digest digest, boolean executable) {}

  private record ChildKey(long parent, String name) {}

  private final Map<Long, Node> byId = new HashMap<>();
  private final Map<Object, Node> byKey = new HashMap<>();
  private long nextId = 2;

  NodeTable(Digest root) {
    Node r = new Node(1, "root", Kind.DIR, root, false, null);
    r.lookups = Long.MAX_VALUE / 2; // never forgotten
    byId.put(1L, r);
  }

  synchronized Node get(long id) {
    return byId.get(id);
  }

  /** The node for {@code child} of {@code parent}, with one more lookup counted. */
  synchronized Node ref(long parent, Child child) {
    Object key = child.kind() == Kind.FILE
        ? new FileKey(child.digest(), child.executable())
        : new ChildKey(parent, child.name());
    Node node = byKey.get(key);
    if (node == null) {
      long id = child.kind() == Kind.FILE ? derivedId(child.digest(), child.executable()) : 0;
      if (id == 0 || byId.containsKey(id)) {
        id = nextId++;
      }
      node = new Node(id, key, child.kind(), child.digest(), child.executable(), child.target());
      byKey.put(key, node);
      byId.put(id, node);
    }
    node.lookups++;
    return node;
  }

  /** The id a file child has now or would get, without counting a lookup. */
  synchronized long peekId(long parent, Child child) {
    Object key = child.kind() == Kind.FILE
        ? new FileKey(child.digest(), child.executable())
        : new ChildKey(parent, child.name());
    Node node = byKey.get(key);
    if (node != null) {
      return node.id;
    }
    return child.kind() == Kind.FILE ? derivedId(child.digest(), child.executable()) : 0;
  }

  /**
   * Drops {@code n} lookups; a node reaching zero is removed, and its backing id handed to
   * {@code closeBacking}.
   */
  void forget(long id, long n, IntConsumer closeBacking) {
    int backing = 0;
    synchronized (this) {
      Node node = byId.get(id);
      if (node == null || id == 1) {
        return;
      }
      node.lookups -= n;
      if (node.lookups > 0) {
        return;
      }
      byId.remove(id);
      byKey.remove(node.key);
      backing = node.backingId;
      node.backingId = 0;
    }
    if (backing > 0) {
      closeBacking.accept(backing);
    }
  }

  /** Nodes the kernel holds (the root included). */
  synchronized int size() {
    return byId.size();
  }

  /** Every backing id still registered, cleared (at unmount). */
  synchronized int[] drainBackingIds() {
    return byId.values().stream().mapToInt(n -> {
      int b = n.backingId;
      n.backingId = 0;
      return b;
    }).filter(b -> b > 0).toArray();
  }

  private static long derivedId(Digest digest, boolean executable) {
    byte[] h = digest.hashBytes();
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (h[i] & 0xff);
    }
    return (v | Long.MIN_VALUE) & ~1L | (executable ? 1L : 0L);
  }
}
