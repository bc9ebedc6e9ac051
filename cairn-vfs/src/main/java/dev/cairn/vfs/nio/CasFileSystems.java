package dev.cairn.vfs.nio;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.spi.FileSystemProvider;
import java.util.Objects;

/**
 * Opens CAS trees as {@code java.nio.file} file systems without going through URIs. It exists so
 * that callers holding a {@link BlobStore} and a digest need no URI or environment map, and can
 * open any number of file systems on one digest.
 */
public final class CasFileSystems {

  private CasFileSystems() {}

  /** A read-only view of the tree with root digest {@code root}; writes are refused. */
  public static CasFileSystem readOnly(BlobStore store, Digest root) throws IOException {
    return provider().open(store, root, null, () -> {});
  }

  /**
   * A copy-on-write view of {@code root}: edits are kept in memory and in {@code scratch}
   * (created if absent) and never change the stored tree; {@link CasFileSystem#snapshot()} stores
   * the edited tree and gives its digest. Closing drops edits not yet snapshotted.
   */
  public static CasFileSystem writable(BlobStore store, Digest root, Path scratch)
      throws IOException {
    return provider().open(store, root, Objects.requireNonNull(scratch, "scratch"), () -> {});
  }

  /** The installed provider (so that paths of all CAS file systems share one), else a new one. */
  private static CasFileSystemProvider provider() {
    for (FileSystemProvider p : FileSystemProvider.installedProviders()) {
      if (p instanceof CasFileSystemProvider cas) {
        return cas;
      }
    }
    return new CasFileSystemProvider();
  }
}
