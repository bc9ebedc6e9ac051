package dev.cairn.fuse.overlay;

import dev.cairn.vfs.TreePath;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Node ids of a writable mount, by path: in a tree that changes, a node is a place, and renames
 * move the ids of everything below the renamed entry. An entry that is removed or replaced while
 * the kernel still holds its id becomes detached (its id maps to no path) until FORGET. Counter
 * ids are never reused within a mount. Thread-safe.
 */
final class PathTable {

  /** One node: its path (null once detached) and the lookups the kernel holds. */
  static final class PNode {
    final long id;
    TreePath path;
    long lookups;

    PNode(long id, TreePath path) {
      this.id = id;
      this.path = path;
    }
  }

  private final Map<Long, PNode> byId = new HashMap<>();
  private final Map<TreePath, PNode> byPath = new HashMap<>();
  private long nextId = 2;

  PathTable() {
    PNode root = new PNode(1, TreePath.ROOT);
    root.lookups = Long.MAX_VALUE / 2;
    byId.put(1L, root);
    byPath.put(TreePath.ROOT, root);
  }

  synchronized PNode get(long id) {
    return byId.get(id);
  }

  /** The path of node {@code id}, or null if it is unknown or detached. */
  synchronized TreePath path(long id) {
    PNode n = byId.get(id);
    return n == null ? null : n.path;
  }

  /** The node at {@code path} with one more lookup counted. */
  synchronized PNode ref(TreePath path) {
    PNode n = byPath.get(path);
    if (n == null) {
      n = new PNode(nextId++, path);
      byId.put(n.id, n);
      byPath.put(path, n);
    }
    n.lookups++;
    return n;
  }

  /** The id the node at {@code path} has, or 0 if the kernel holds none. */
  synchronized long peek(TreePath path) {
    PNode n = byPath.get(path);
    return n == null ? 0 : n.id;
  }

  synchronized void forget(long id, long n) {
    PNode node = byId.get(id);
    if (node == null || id == 1) {
      return;
    }
    node.lookups -= n;
    if (node.lookups <= 0) {
      byId.remove(id);
      if (node.path != null && byPath.get(node.path) == node) {
        byPath.remove(node.path);
      }
    }
  }

  /** The entry at {@code path} (and everything below it) is gone: detach their nodes. */
  synchronized void removed(TreePath path) {
    for (PNode n : below(path)) {
      byPath.remove(n.path);
      n.path = null;
    }
  }

  /** {@code source} was renamed to {@code target} (whatever was at target is gone). */
  synchronized void renamed(TreePath source, TreePath target) {
    removed(target);
    List<PNode> moving = below(source);
    for (PNode n : moving) {
      byPath.remove(n.path);
    }
    for (PNode n : moving) {
      n.path = target.resolve(new TreePath(n.path.names().subList(source.names().size(),
          n.path.names().size())));
      byPath.put(n.path, n);
    }
  }

  /** {@code a} and {@code b} swapped places (RENAME_EXCHANGE). */
  synchronized void exchanged(TreePath a, TreePath b) {
    List<PNode> fromA = below(a);
    List<PNode> fromB = below(b);
    for (PNode n : fromA) {
      byPath.remove(n.path);
    }
    for (PNode n : fromB) {
      byPath.remove(n.path);
    }
    rebase(fromA, a, b);
    rebase(fromB, b, a);
  }

  private void rebase(List<PNode> nodes, TreePath from, TreePath to) {
    for (PNode n : nodes) {
      n.path = to.resolve(new TreePath(n.path.names().subList(from.names().size(),
          n.path.names().size())));
      byPath.put(n.path, n);
    }
  }

  private List<PNode> below(TreePath path) {
    List<PNode> out = new ArrayList<>();
    for (PNode n : byPath.values()) {
      if (n.path.startsWith(path) && n.id != 1) {
        out.add(n);
      }
    }
    return out;
  }

  synchronized int size() {
    return byId.size();
  }
}
