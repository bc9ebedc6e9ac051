package dev.cairn.asset;

import dev.cairn.core.digest.Digest;
import java.time.Instant;
import java.util.Optional;

/**
 * A successful Fetch: the URI that answered (from the index or the origin), the content's digest
 * (a blob, or a root Directory), when it was fetched, and when it stops being returned if known.
 */
public record FetchResult(String uri, Digest digest, Instant fetchedAt, Optional<Instant> expiresAt,
    boolean fromIndex) {}
