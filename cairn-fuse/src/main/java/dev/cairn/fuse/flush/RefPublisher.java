package dev.cairn.fuse.flush;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.ref.RefStore;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.Optional;

/**
 * Publishes a writable mount's captured root to its ref without ever clobbering someone else's
 * work: the ref is set only while it still points where it pointed at mount time (or to what this
 * publisher last set). If another writer moved it, the digest goes to the first free {@code
 * NAME.conflict-N} instead, with a WARNING naming both digests, and later publishes of this mount
 * keep going there.
 *
 * <p>{@link RefStore} has no compare-and-set, so the check and the update are two calls: a writer
 * that moves the ref between them is overwritten. The window is one round trip to the ref store.
 * Thread-safe; publishes are serialized.
 */
public final class RefPublisher {

  /**
   * What a publish did: {@code root} set at {@code ref}; {@code conflict} if that is a
   * {@code .conflict-N} ref because the mount's ref had moved.
   */
  public record Published(String ref, Digest root, boolean conflict) {}

  private final RefStore refs;
  private final String name;
  private final Logger log;
  /** Where this mount publishes: its ref, or its conflict ref once diverted. */
  private String target; // guarded by this
  /** What {@link #target} should point to now if nobody else moved it. */
  private Optional<Digest> expected; // guarded by this

  /**
   * A publisher to {@code name} in {@code refs}, which pointed to {@code baseAtMount} (empty: did
   * not exist) when the mount started.
   */
  public RefPublisher(RefStore refs, String name, Optional<Digest> baseAtMount) {
    this(refs, name, baseAtMount, System.getLogger(RefPublisher.class.getName()));
  }

  RefPublisher(RefStore refs, String name, Optional<Digest> baseAtMount, Logger log) {
    this.refs = Objects.requireNonNull(refs, "refs");
    this.name = RefStore.validate(name);
    this.expected = Objects.requireNonNull(baseAtMount, "baseAtMount");
    this.log = Objects.requireNonNull(log, "log");
    this.target = name;
  }

  /** The mount's ref name. */
  public String name() {
    return name;
  }

  /**
   * Sets the mount's ref (or its conflict ref) to {@code root}, as the class describes.
   *
   * @return which ref now points to {@code root}
   */
  public synchronized Published publish(Digest root) throws IOException {
    Objects.requireNonNull(root, "root");
    Optional<Digest> current = refs.get(target);
    if (current.equals(expected) || current.equals(Optional.of(root))) {
      refs.set(target, root);
      expected = Optional.of(root);
      return new Published(target, root, !target.equals(name));
    }
    String moved = target;
    String conflict = firstFreeConflictRef();
    refs.set(conflict, root);
    log.log(Level.WARNING, "ref " + moved + " was moved by someone else to "
        + current.map(Digest::toString).orElse("(deleted)") + " (this mount expected "
        + expected.map(Digest::toString).orElse("no ref") + "); not overwriting it: published "
        + root + " to " + conflict + " instead, and later flushes of this mount go there too");
    target = conflict;
    expected = Optional.of(root);
    return new Published(conflict, root, true);
  }

  private String firstFreeConflictRef() throws IOException {
    for (int n = 1; ; n++) {
      String candidate = RefStore.validate(name + ".conflict-" + n);
      if (refs.get(candidate).isEmpty()) {
        return candidate;
      }
    }
  }
}
