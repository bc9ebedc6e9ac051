package dev.cairn.asset;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.util.List;

/**
 * A Push named content the CAS does not hold; clients must upload before they push, so the
 * mapping is refused (FAILED_PRECONDITION, with the missing digests).
 */
public final class MissingContentException extends IOException {
  private final List<Digest> missing;

  public MissingContentException(String what, List<Digest> missing) {
    super(what + ": " + missing.size() + " blob" + (missing.size() == 1 ? "" : "s")
        + " not in the CAS, upload them first: "
        + String.join(", ", missing.stream().limit(5).map(Digest::toString).toList())
        + (missing.size() > 5 ? ", ..." : ""));
    this.missing = List.copyOf(missing);
  }

  public List<Digest> missing() {
    return missing;
  }
}
