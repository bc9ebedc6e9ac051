package dev.cairn.asset.git;

import dev.cairn.asset.OriginPolicy;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Fetches a git repository (JGit, no git binary, no shell) and stores the checked-out tree of a
 * commit or branch in a CAS. (Seam for the git work; the body is being written.)
 */
public final class GitFetcher {
  private final BlobStore store;
  private final DigestFunction function;
  private final Path workDirectory;
  private final OriginPolicy policy;

  public GitFetcher(BlobStore store, DigestFunction function, Path workDirectory, OriginPolicy policy) {
    this.store = store;
    this.function = function;
    this.workDirectory = workDirectory;
    this.policy = policy;
  }

  /** The root digest of the tree at {@code commit} (else the tip of {@code branch}, else HEAD). */
  public Digest fetch(URI repository, Optional<String> commit, Optional<String> branch) throws IOException {
    throw new UnsupportedOperationException("git fetch is not built yet");
  }
}
