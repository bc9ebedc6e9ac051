package dev.cairn.http;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * How to run an {@link HttpCacheServer}.
 *
 * @param listen the address to bind (port 0 picks a free port; the wiring's default is
 *     127.0.0.1:8080)
 * @param maxUploadBytes the largest request body accepted; a {@code PUT} announcing more is
 *     answered 413. Action-cache values are further limited to {@link
 *     dev.cairn.core.blob.BlobStore#MAX_IN_MEMORY_BYTES} because they are handled in memory
 * @param idleTimeout how long a connection may wait on its client (no request, or a stalled
 *     upload or download) before it is closed
 */
public record HttpCacheConfig(InetSocketAddress listen, long maxUploadBytes, Duration idleTimeout) {
  public HttpCacheConfig {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    if (maxUploadBytes <= 0) {
      throw new IllegalArgumentException("max upload size must be positive, got " + maxUploadBytes);
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive, got " + idleTimeout);
    }
  }
}
