package dev.cairn.asset;

import dev.cairn.core.digest.DigestFunction;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A Fetch, protocol-neutral: what kind of content, in which instance and digest function, by
 * which URIs (tried in order) and qualifiers, within which timeout, and no older than what.
 */
public record FetchRequest(AssetKey.Kind kind, String instance, DigestFunction function,
    List<String> uris, Qualifiers qualifiers, Optional<Duration> timeout,
    Optional<Instant> oldestAccepted) {

  public FetchRequest {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(instance, "instance");
    Objects.requireNonNull(function, "function");
    uris = List.copyOf(uris);
    Objects.requireNonNull(qualifiers, "qualifiers");
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(oldestAccepted, "oldestAccepted");
  }

  /** A request with no instance, no timeout and any age accepted. */
  public static FetchRequest of(AssetKey.Kind kind, DigestFunction function, List<String> uris, Qualifiers qualifiers) {
    return new FetchRequest(kind, "", function, uris, qualifiers, Optional.empty(), Optional.empty());
  }
}
