package dev.cairn.fuse.kernel;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.NotLinkException;
import java.nio.file.ReadOnlyFileSystemException;

/**
 * Linux errno values the FUSE protocol answers with, and the one mapping from Java's file-system
 * exceptions to them, so every file system reports the same error for the same failure.
 */
public final class Errno {
  public static final int EPERM = 1;
  public static final int ENOENT = 2;
  public static final int EINTR = 4;
  public static final int EIO = 5;
  public static final int EBADF = 9;
  public static final int EAGAIN = 11;
  public static final int ENOMEM = 12;
  public static final int EACCES = 13;
  public static final int EBUSY = 16;
  public static final int EEXIST = 17;
  public static final int EXDEV = 18;
  public static final int ENODEV = 19;
  public static final int ENOTDIR = 20;
  public static final int EISDIR = 21;
  public static final int EINVAL = 22;
  public static final int EFBIG = 27;
  public static final int ENOSPC = 28;
  public static final int EROFS = 30;
  public static final int ERANGE = 34;
  public static final int ENAMETOOLONG = 36;
  public static final int ENOSYS = 38;
  public static final int ENOTEMPTY = 39;
  public static final int ENODATA = 61;
  public static final int EPROTO = 71;
  public static final int EOPNOTSUPP = 95;

  private Errno() {}

  /**
   * The errno for a failure: a {@link FuseException}'s own, the matching value for the {@code
   * java.nio.file} exceptions and cairn-vfs' {@code IsDirectoryException} /
   * {@code InvalidOperationException} (matched by name, so this layer needs no vfs types), EIO for
   * anything else (a blob that failed verification, a fetch that broke).
   */
  public static int of(Throwable failure) {
    return switch (failure) {
      case FuseException f -> f.errno();
      case NoSuchFileException e -> ENOENT;
      case FileAlreadyExistsException e -> EEXIST;
      case DirectoryNotEmptyException e -> ENOTEMPTY;
      case NotDirectoryException e -> ENOTDIR;
      case AccessDeniedException e -> EACCES;
      case NotLinkException e -> EINVAL;
      case ReadOnlyFileSystemException e -> EROFS;
      case IOException e -> byName(e);
      case IllegalArgumentException e -> EINVAL;
      default -> EIO;
    };
  }

  private static int byName(IOException e) {
    String name = e.getClass().getSimpleName();
    return switch (name) {
      case "IsDirectoryException" -> EISDIR;
      case "InvalidOperationException" -> EINVAL;
      case "StoreFullException" -> ENOSPC;
      default -> {
        String reason = e instanceof java.nio.file.FileSystemException fse ? fse.getReason() : null;
        if (reason != null && reason.contains("is a directory")) {
          yield EISDIR;
        }
        if (reason != null && reason.contains("not a directory")) {
          yield ENOTDIR;
        }
        yield EIO;
      }
    };
  }
}
