package dev.cairn.http;

import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.blob.BlobStore;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.flow.FlowControlHandler;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ResourceLeakDetector;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The HTTP cache server Bazel ({@code --remote_cache=http://...}) and ccache ({@code
 * layout=bazel}) talk to: {@code GET}/{@code HEAD}/{@code PUT} on {@code /cas/<sha256>} and
 * {@code /ac/<sha256>} under any path prefix, plus {@code /healthz} and {@code /metrics}. It is a
 * thin adapter over a {@link BlobStore} and an {@link ActionCache}: see {@link HttpCache} for how
 * a blob's size is found from its hash alone, and how action-cache keys are formed.
 *
 * <p>Blob bytes never live on the heap: uploads stream into the store through a bounded pipe
 * (the socket is not read while the store is behind), downloads go from the blob's file when
 * {@link BlobFiles} is given (blobs up to 64 KiB read into one pooled direct buffer, larger ones
 * with {@code sendfile(2)}), else in chunks paced by the socket. So heap use does not grow with
 * blob size. {@code PUT} needs a Content-Length (the size is part of the
 * digest): without one it is answered 411.
 *
 * <p>Runs on Netty's NIO transport: event loops for I/O and for CAS hits the disk store's index
 * knows, a virtual thread for every other store call. Start once, close once; thread-safe.
 */
public final class HttpCacheServer implements AutoCloseable {
  /** How long {@link #close} lets requests in flight finish before cutting them off. */
  static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

  /** Usage figures of the store behind the server, published as gauges. */
  public record StoreUsage(long bytesUsed, long blobCount, long maxSizeBytes) {}

  private final HttpCacheConfig config;
  private final HttpCache cache;
  private final HttpMetrics metrics;
  private final PrometheusMeterRegistry registry;
  private final ChannelGroup connections = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
  private volatile boolean closing;
  private int actionBodyBudget = defaultActionBodyBudget();
  private EventLoopGroup loops;
  private ExecutorService blocking;
  private Channel listener;

  public HttpCacheServer(
      HttpCacheConfig config,
      BlobStore cas,
      ActionCache actionCache,
      Optional<BlobFiles> files,
      PrometheusMeterRegistry registry) {
    this.config = Objects.requireNonNull(config, "config");
    this.registry = Objects.requireNonNull(registry, "registry");
    this.cache = new HttpCache(cas, actionCache, files, openFilesWithin(config.openFiles()));
    this.metrics = new HttpMetrics(registry);
    cache.openFiles().ifPresent(metrics::openFiles);
    Gauge.builder("cairn.http.connections.open", connections, ChannelGroup::size)
        .description("Open HTTP connections").register(registry);
  }

  /**
   * The kept-open files asked for, but at most a quarter of the process's descriptor limit (the
   * JVM raises its soft limit to the hard one), so that connections and the store's own opens
   * never run short because of them.
   */
  static int openFilesWithin(int wanted) {
    if (java.lang.management.ManagementFactory.getOperatingSystemMXBean()
        instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
      return (int) Math.min(wanted, unix.getMaxFileDescriptorCount() / 4);
    }
    return wanted;
  }

  /**
   * Publishes the store's usage as gauges ({@code cairn_store_used_bytes}, {@code
   * cairn_store_blobs}, {@code cairn_store_limit_bytes}), read at each scrape. Optional; the
   * supplier must be cheap and thread-safe.
   */
  public void registerStoreUsage(Supplier<StoreUsage> usage) {
    Objects.requireNonNull(usage, "usage");
    Gauge.builder("cairn.store.used.bytes", usage, u -> u.get().bytesUsed())
        .description("Bytes stored").register(registry);
    Gauge.builder("cairn.store.blobs", usage, u -> u.get().blobCount())
        .description("Blobs stored").register(registry);
    Gauge.builder("cairn.store.limit.bytes", usage, u -> u.get().maxSizeBytes())
        .description("The store's size limit").register(registry);
  }

  /**
   * Binds the configured address and starts serving.
   *
   * @throws IOException naming the address if it cannot be bound (for example, the port is taken)
   * @throws IllegalStateException if already started
   */
  public synchronized void start() throws IOException {
    if (loops != null) {
      throw new IllegalStateException("HTTP cache server already started");
    }
    disableLeakDetectionUnlessAsked();
    loops = new MultiThreadIoEventLoopGroup(
        Math.max(2, Runtime.getRuntime().availableProcessors()), NioIoHandler.newFactory());
    blocking = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("cairn-http-", 0).factory());
    long idleMillis = config.idleTimeout().toMillis();
    Semaphore actionBodies = new Semaphore(actionBodyBudget);
    ServerBootstrap bootstrap = new ServerBootstrap()
        .group(loops)
        .channel(NioServerSocketChannel.class)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .option(ChannelOption.SO_REUSEADDR, true)
        .childOption(ChannelOption.AUTO_READ, false)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK,
            new WriteBufferWaterMark(256 << 10, 1 << 20))
        .childHandler(new ChannelInitializer<SocketChannel>() {
          @Override
          protected void initChannel(SocketChannel ch) {
            connections.add(ch);
            metrics.connectionAccepted();
            ch.pipeline()
                .addLast(new IdleStateHandler(true, 0, 0, idleMillis, TimeUnit.MILLISECONDS))
                .addLast(new HttpServerCodec(new HttpDecoderConfig().setMaxChunkSize(64 << 10)))
                .addLast(new FlowControlHandler())
                .addLast(new HttpCacheHandler(
                    cache, metrics, config.maxUploadBytes(), blocking, actionBodies, () -> closing));
          }
        });
    try {
      listener = bootstrap.bind(config.listen()).sync().channel();
    } catch (Exception e) { // Netty rethrows the bind's checked exception undeclared
      releaseResources();
      loops = null;
      blocking = null;
      throw new IOException("cannot listen for HTTP on " + describe(config.listen()) + ": "
          + e.getMessage(), e);
    }
  }

  /**
   * Turns Netty's buffer leak detector off unless a system property chooses its level. It is on
   * by default (sampling one buffer in 128) and showed in the GET profile building a stack trace
   * per ~65 requests. To hunt a leak, run with {@code -Dio.netty.leakDetection.level=paranoid}.
   * The level is a process-wide Netty setting; the gRPC server's shaded Netty has its own.
   */
  static void disableLeakDetectionUnlessAsked() {
    if (System.getProperty("io.netty.leakDetection.level") == null
        && System.getProperty("io.netty.leakDetectionLevel") == null) {
      ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
    }
  }

  /**
   * Action-cache values arrive whole in memory (the {@link ActionCache} API takes bytes), so the
   * bytes of those being received at once are bounded: a quarter of the heap, at least one
   * maximal value. Beyond it a PUT is answered 503 with Retry-After.
   */
  private static int defaultActionBodyBudget() {
    long quarterHeap = Runtime.getRuntime().maxMemory() / 4;
    return (int) Math.min(Integer.MAX_VALUE, Math.max(BlobStore.MAX_IN_MEMORY_BYTES, quarterHeap));
  }

  /** For tests: the action-cache bytes allowed in flight; call before {@link #start}. */
  void actionBodyBudget(int bytes) {
    this.actionBodyBudget = bytes;
  }

  /** The bound address (with the real port when port 0 was asked for). */
  public InetSocketAddress address() {
    Channel l = listener;
    if (l == null) {
      throw new IllegalStateException("HTTP cache server not started");
    }
    return (InetSocketAddress) l.localAddress();
  }

  /**
   * Stops accepting connections, lets requests in flight finish (up to {@link #SHUTDOWN_GRACE}),
   * closes idle connections, then releases the event loops. Idempotent.
   */
  @Override
  public synchronized void close() {
    if (loops == null || closing) {
      return;
    }
    closing = true;
    if (listener != null) {
      listener.close().awaitUninterruptibly();
    }
    for (Channel ch : connections) {
      HttpCacheHandler handler = ch.pipeline().get(HttpCacheHandler.class);
      if (handler != null) {
        ch.eventLoop().execute(handler::shutdown);
      } else {
        ch.close();
      }
    }
    long deadline = System.nanoTime() + SHUTDOWN_GRACE.toNanos();
    while (!connections.isEmpty() && System.nanoTime() < deadline) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    connections.close().awaitUninterruptibly();
    releaseResources();
  }

  private void releaseResources() {
    loops.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
    blocking.shutdownNow();
    cache.closeDirectories();
  }

  private static String describe(InetSocketAddress address) {
    return address.getHostString() + ":" + address.getPort();
  }
}
