package dev.cairn.asset.git;

import dev.cairn.asset.FetchException;

/**
 * The repository was reached but does not have what was asked for: an unknown or unreachable
 * commit, an unknown branch, no HEAD, or no repository at that URL. A {@link FetchException}
 * with reason NOT_FOUND, so the Fetch service answers NOT_FOUND rather than UNAVAILABLE.
 */
public final class GitRefNotFoundException extends FetchException {
  public GitRefNotFoundException(String uri, String message) {
    super(Reason.NOT_FOUND, uri, message);
  }
}
