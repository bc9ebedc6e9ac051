package dev.cairn.vfs;

/**
 * Flags of {@link Directory#rename}, as {@code renameat2(2)} has them: FUSE's RENAME2 passes them
 * through, so the tree must honour them itself rather than emulate them in the adapter.
 */
public enum RenameOption {
  /** Fail with {@link java.nio.file.FileAlreadyExistsException} if the target exists. */
  NO_REPLACE,
  /** Swap source and target atomically; both must exist, and may be of different kinds. */
  EXCHANGE
}
