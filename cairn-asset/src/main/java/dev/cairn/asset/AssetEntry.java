package dev.cairn.asset;

import dev.cairn.core.digest.Digest;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * What the asset index holds for a name: the content's digest, when it was fetched from the
 * origin (or pushed) — what {@code oldest_content_accepted} is compared with — and, for pushed
 * mappings that asked for one, the time after which it must no longer be returned.
 */
public record AssetEntry(Digest digest, Instant fetchedAt, Optional<Instant> expiresAt) {
  public AssetEntry {
    Objects.requireNonNull(digest, "digest");
    Objects.requireNonNull(fetchedAt, "fetchedAt");
    Objects.requireNonNull(expiresAt, "expiresAt");
  }

  /** Whether the entry may no longer be returned at {@code now}. */
  public boolean expired(Instant now) {
    return expiresAt.isPresent() && !now.isBefore(expiresAt.get());
  }
}
