package dev.cairn.asset.git;

import java.io.IOException;

/** A git URL the origin policy does not allow (a {@code file:} URL where private origins are refused). */
public final class GitOriginRefusedException extends IOException {
  public GitOriginRefusedException(String message, Throwable cause) {
    super(message, cause);
  }
}
