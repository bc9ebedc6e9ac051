package dev.cairn.server;

import dev.cairn.asset.AssetConfig;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;

/**
 * Everything {@code cairn serve} needs, validated. Listening addresses default to loopback: a
 * cache is opened to the network only when asked.
 *
 * @param store where blobs and action results live
 * @param grpcListen the REAPI gRPC address (default 127.0.0.1:8980)
 * @param httpListen the HTTP cache-protocol address (default 127.0.0.1:8080)
 * @param maxBatchBytes the largest batch request, and what Capabilities announces
 * @param maxUploadBytes the largest single HTTP upload
 * @param uploadExpiry how long an interrupted ByteStream upload stays resumable
 * @param shutdownGrace how long in-flight requests may take to finish at shutdown
 * @param asset the Remote Asset service's settings (origin policy, download limit, index bound)
 */
public record ServerConfig(
    StoreConfig store, InetSocketAddress grpcListen, InetSocketAddress httpListen,
    long maxBatchBytes, long maxUploadBytes, Duration uploadExpiry, Duration shutdownGrace,
    AssetConfig asset, int httpOpenFiles) {

  public static final InetSocketAddress DEFAULT_GRPC = new InetSocketAddress("127.0.0.1", 8980);
  public static final InetSocketAddress DEFAULT_HTTP = new InetSocketAddress("127.0.0.1", 8080);
  /** The kept-open cache allocates its tables up front: a bound that stays in the megabytes. */
  public static final int MAX_HTTP_OPEN_FILES = 1 << 20;

  public ServerConfig {
    Objects.requireNonNull(store, "store");
    Objects.requireNonNull(grpcListen, "grpcListen");
    Objects.requireNonNull(httpListen, "httpListen");
    Objects.requireNonNull(uploadExpiry, "uploadExpiry");
    Objects.requireNonNull(shutdownGrace, "shutdownGrace");
    Objects.requireNonNull(asset, "asset");
    if (maxBatchBytes < 64 * 1024) {
      throw new IllegalArgumentException("max batch size must be at least 64 KiB, got " + maxBatchBytes);
    }
    if (maxUploadBytes <= 0) {
      throw new IllegalArgumentException("max upload size must be positive, got " + maxUploadBytes);
    }
    if (httpOpenFiles < 0 || httpOpenFiles > MAX_HTTP_OPEN_FILES) {
      throw new IllegalArgumentException("http open files must be between 0 and "
          + MAX_HTTP_OPEN_FILES + ", got " + httpOpenFiles);
    }
  }

  /** With the HTTP cache's default count of blob files kept open. */
  public ServerConfig(
      StoreConfig store, InetSocketAddress grpcListen, InetSocketAddress httpListen,
      long maxBatchBytes, long maxUploadBytes, Duration uploadExpiry, Duration shutdownGrace,
      AssetConfig asset) {
    this(store, grpcListen, httpListen, maxBatchBytes, maxUploadBytes, uploadExpiry, shutdownGrace,
        asset, dev.cairn.http.HttpCacheConfig.DEFAULT_OPEN_FILES);
  }

  /** A configuration with the default Remote Asset settings. */
  public ServerConfig(
      StoreConfig store, InetSocketAddress grpcListen, InetSocketAddress httpListen,
      long maxBatchBytes, long maxUploadBytes, Duration uploadExpiry, Duration shutdownGrace) {
    this(store, grpcListen, httpListen, maxBatchBytes, maxUploadBytes, uploadExpiry, shutdownGrace,
        AssetConfig.defaults());
  }

  /** Defaults for everything but the store. */
  public static ServerConfig defaults(StoreConfig store) {
    return new ServerConfig(store, DEFAULT_GRPC, DEFAULT_HTTP, 4L << 20, 1L << 40,
        Duration.ofHours(1), Duration.ofSeconds(30));
  }

  public ServerConfig withListen(InetSocketAddress grpc, InetSocketAddress http) {
    return new ServerConfig(store, grpc, http, maxBatchBytes, maxUploadBytes, uploadExpiry, shutdownGrace, asset,
        httpOpenFiles);
  }

  public ServerConfig withAsset(AssetConfig assetConfig) {
    return new ServerConfig(store, grpcListen, httpListen, maxBatchBytes, maxUploadBytes, uploadExpiry,
        shutdownGrace, assetConfig, httpOpenFiles);
  }

  /**
   * Parses {@code host:port}, {@code :port} (loopback) or {@code [v6]:port}.
   *
   * @throws IllegalArgumentException naming the text
   */
  public static InetSocketAddress parseAddress(String text) {
    String t = text.trim();
    int colon = t.lastIndexOf(':');
    if (colon < 0) {
      throw new IllegalArgumentException("invalid address '" + text + "': expected host:port");
    }
    String host = t.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    if (host.isEmpty()) {
      host = "127.0.0.1";
    }
    int port;
    try {
      port = Integer.parseInt(t.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("invalid address '" + text + "': port is not a number");
    }
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("invalid address '" + text + "': port out of range");
    }
    return new InetSocketAddress(host, port);
  }
}
