package dev.cairn.asset.archive;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Unpacks an archive straight into a CAS as a Merkle tree and gives its root Directory digest.
 * (Seam for the archive work; the body is being written.)
 */
public final class ArchiveImporter {
  private final BlobStore store;
  private final DigestFunction function;
  private final ArchiveLimits limits;

  public ArchiveImporter(BlobStore store, DigestFunction function, ArchiveLimits limits) {
    this.store = store;
    this.function = function;
    this.limits = limits;
  }

  /** The root digest of the tree {@code archive} holds. */
  public Digest importArchive(Path archive, ArchiveFormat format) throws IOException {
    throw new UnsupportedOperationException("archive import is not built yet");
  }
}
