package dev.cairn.core.tree;

/**
 * Receives progress of long tree operations (import, export), so a terminal can show a bar. Called
 * from worker threads: implementations are thread-safe. The no-op instance is {@link #NONE}.
 */
public interface Progress {
  Progress NONE = new Progress() {};

  /** The work ahead, once known: file count and byte count. */
  default void start(String task, long files, long bytes) {}

  /**
   * One file done, of {@code bytes} bytes. An import calls this for files done while its walk
   * is still counting, before {@link #start}: such files count towards the total given there.
   */
  default void advance(long bytes) {}

  default void finish() {}
}
