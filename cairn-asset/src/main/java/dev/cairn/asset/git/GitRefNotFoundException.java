package dev.cairn.asset.git;

import java.io.IOException;

/**
 * The repository was reached but does not have what was asked for: an unknown or unreachable
 * commit, an unknown branch, no HEAD. A service answers NOT_FOUND rather than UNAVAILABLE.
 */
public final class GitRefNotFoundException extends IOException {
  public GitRefNotFoundException(String message) {
    super(message);
  }
}
