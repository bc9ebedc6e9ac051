package dev.cairn.grpc;

import io.grpc.BindableService;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The REAPI cache over gRPC: Capabilities, CAS, ByteStream and ActionCache on one port, plus any
 * extra services the wiring adds (the Remote Asset Fetch/Push services). Calls run on virtual
 * threads, since every service blocks on the store.
 */
public final class CairnGrpcServer implements AutoCloseable {
  /** What {@link CairnGrpcServer} needs beyond the stores. */
  public record Config(InetSocketAddress listen, long maxBatchTotalSizeBytes, Duration shutdownGrace) {
    public static final long DEFAULT_MAX_BATCH_BYTES = 4L * 1024 * 1024;
  }

  private final Config config;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Server server;
  private final UploadArea uploads;

  public CairnGrpcServer(Config config, Backends backends, UploadArea uploads) {
    this(config, backends, uploads, List.of());
  }

  /** A server that also serves {@code extraServices} on the same port. */
  public CairnGrpcServer(Config config, Backends backends, UploadArea uploads,
      List<BindableService> extraServices) {
    this(config, backends, uploads, extraServices, null);
  }

  /** The same, timing every call into {@code metrics} (see {@link GrpcMetrics}) unless null. */
  public CairnGrpcServer(Config config, Backends backends, UploadArea uploads,
      List<BindableService> extraServices, MeterRegistry metrics) {
    this.config = config;
    this.uploads = uploads;
    NettyServerBuilder builder = NettyServerBuilder.forAddress(config.listen())
        .executor(executor)
        .maxInboundMessageSize(maxInboundMessageSize(config));
    // Interceptors must pass sent messages on at once and keep no reference: ByteStream Read
    // refills one array for its next chunk as soon as a send returns (see ByteStreamService).
    if (metrics != null) {
      builder.intercept(new GrpcMetrics(metrics));
    }
    services(config, backends, uploads, true).forEach(builder::addService);
    extraServices.forEach(builder::addService);
    this.server = builder.build();
  }

  /** The services, for embedding in another server (tests use an in-process one). */
  public static List<BindableService> services(Config config, Backends backends, UploadArea uploads) {
    return services(config, backends, uploads, false);
  }

  /**
   * The services; {@code socketTransport} for a server on a socket transport (Netty), which
   * serializes each sent message before the send returns (see {@link ByteStreamService}).
   */
  public static List<BindableService> services(Config config, Backends backends, UploadArea uploads,
      boolean socketTransport) {
    return List.of(
        new CapabilitiesService(backends, config.maxBatchTotalSizeBytes()),
        new ContentAddressableStorageService(backends, config.maxBatchTotalSizeBytes()),
        new ByteStreamService(backends, uploads, socketTransport),
        new ActionCacheService(backends));
  }

  /**
   * The smallest limit on a request message, whatever the batch size: room for a FindMissingBlobs
   * of about 230,000 digests (a 100,000-digest one is 7.1 MB), as Bazel sends for a large action's
   * inputs in one call.
   */
  public static final int MIN_INBOUND_MESSAGE_BYTES = 16 << 20;

  /** Batches up to the advertised size plus room for the message framing, and at least 16 MiB. */
  public static int maxInboundMessageSize(Config config) {
    long batch = config.maxBatchTotalSizeBytes() + (1 << 20);
    return (int) Math.min(Integer.MAX_VALUE, Math.max(MIN_INBOUND_MESSAGE_BYTES, batch));
  }

  public void start() throws IOException {
    try {
      server.start();
    } catch (IOException e) {
      throw new IOException("cannot listen for gRPC on " + config.listen() + ": " + e.getMessage(), e);
    }
    Thread.ofVirtual().name("cairn-upload-expiry").start(this::expireLoop);
  }

  private void expireLoop() {
    while (!server.isShutdown()) {
      uploads.expire();
      try {
        Thread.sleep(60_000);
      } catch (InterruptedException e) {
        return;
      }
    }
  }

  /** The bound address (with the real port when port 0 was asked for). */
  public InetSocketAddress address() {
    return (InetSocketAddress) server.getListenSockets().getFirst();
  }

  /** Stops accepting calls, lets running ones finish within the grace time, then cancels them. */
  @Override
  public void close() throws InterruptedException {
    server.shutdown();
    if (!server.awaitTermination(config.shutdownGrace().toMillis(), TimeUnit.MILLISECONDS)) {
      server.shutdownNow();
      server.awaitTermination(5, TimeUnit.SECONDS);
    }
    executor.shutdownNow();
  }
}
