package dev.cairn.asset;

/** The origin policy refused to contact a URI (for example one resolving to a private address). */
public final class OriginRefusedException extends FetchException {
  public OriginRefusedException(String uri, String message) {
    super(Reason.PERMISSION_DENIED, uri, message);
  }
}
