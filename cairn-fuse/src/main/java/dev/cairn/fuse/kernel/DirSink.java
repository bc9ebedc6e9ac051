package dev.cairn.fuse.kernel;

/**
 * Where a file system writes the entries of one READDIR(PLUS) reply. Entries go straight into the
 * off-heap reply buffer; {@code add} returns false when the entry no longer fits, and the file
 * system stops there (the kernel asks again from the last offset it got).
 */
public interface DirSink {

  /** Whether the kernel asked for READDIRPLUS (then {@link #addPlus} is the call to use). */
  boolean plus();

  /**
   * Whether an entry named {@code name} still fits (as plain or plus entry, whichever was asked).
   * File systems check this before taking a lookup reference for the entry.
   */
  boolean fits(String name);

  /**
   * Adds a plain entry.
   *
   * @param nextOffset the offset the kernel sends to continue after this entry
   * @return false if the entry did not fit (nothing was added)
   */
  boolean add(String name, long ino, int direntType, long nextOffset);

  /**
   * Adds an entry with its lookup answer; a null {@code entry} (for "." and "..") adds the name
   * only. Each non-null entry added counts as one lookup of its node.
   *
   * @return false if the entry did not fit (nothing was added, no lookup counted)
   */
  boolean addPlus(String name, EntryReply entry, int direntType, long ino, long nextOffset);
}
