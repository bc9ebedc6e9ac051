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
 * @param openFiles how many small blobs' files are kept open between GET hits (each one file
 *     descriptor; see {@code OpenBlobFiles}); 0 for none. Default {@link #DEFAULT_OPEN_FILES}
 */
public record HttpCacheConfig(
    InetSocketAddress listen, long maxUploadBytes, Duration idleTimeout, int openFiles) {
  /** 4,096: descriptors are plentiful (the JVM raises its soft limit to the hard one). */
  public static final int DEFAULT_OPEN_FILES = OpenBlobFiles.DEFAULT_CAPACITY;

  /** With {@link #DEFAULT_OPEN_FILES} blob files kept open. */
  public HttpCacheConfig(InetSocketAddress listen, long maxUploadBytes, Duration idleTimeout) {
    this(listen, maxUploadBytes, idleTimeout, DEFAULT_OPEN_FILES);
  }

  public HttpCacheConfig {
    Objects.requireNonNull(listen, "listen");
    Objects.requireNonNull(idleTimeout, "idleTimeout");
    if (openFiles < 0) {
      throw new IllegalArgumentException("open files must not be negative, got " + openFiles);
    }
    if (maxUploadBytes <= 0) {
      throw new IllegalArgumentException("max upload size must be positive, got " + maxUploadBytes);
    }
    if (idleTimeout.isNegative() || idleTimeout.isZero()) {
      throw new IllegalArgumentException("idle timeout must be positive, got " + idleTimeout);
    }
  }
}
