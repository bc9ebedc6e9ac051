package dev.cairn.asset;

import java.io.IOException;

/**
 * A fetch from an origin failed for a reason outside Cairn's control (not found, refused, too
 * slow, too large, content not matching its checksum). The Fetch service reports these in the
 * response's {@code status}, as the Remote Asset spec asks, rather than failing the call.
 */
public class FetchException extends IOException {

  /** Why the fetch failed; each maps to the status code the spec names for it. */
  public enum Reason {
    /** The origin does not have it (HTTP 404/410, unknown host, unknown ref). */
    NOT_FOUND,
    /** The origin refused us, or the origin policy refused the origin. */
    PERMISSION_DENIED,
    /** The request's timeout passed. */
    DEADLINE_EXCEEDED,
    /** The content failed a consistency check (checksum.sri). */
    ABORTED,
    /** The content is larger than the configured limit. */
    RESOURCE_EXHAUSTED,
    /** The origin failed or could not be reached; trying again later may work. */
    UNAVAILABLE
  }

  private final Reason reason;
  private final String uri;

  public FetchException(Reason reason, String uri, String message) {
    super(message);
    this.reason = reason;
    this.uri = uri;
  }

  public FetchException(Reason reason, String uri, String message, Throwable cause) {
    super(message, cause);
    this.reason = reason;
    this.uri = uri;
  }

  public Reason reason() {
    return reason;
  }

  /** The URI the failure came from (the last one tried when all mirrors failed). */
  public String uri() {
    return uri;
  }
}
