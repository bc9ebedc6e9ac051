package dev.cairn.server;

import dev.cairn.asset.AssetIndex;
import dev.cairn.asset.AssetResolver;
import dev.cairn.asset.PublicAddressPolicy;
import dev.cairn.asset.grpc.FetchService;
import dev.cairn.asset.grpc.PushService;
import dev.cairn.core.digest.DigestFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import dev.cairn.grpc.CairnGrpcServer;
import dev.cairn.http.BlobFiles;
import dev.cairn.http.HttpCacheConfig;
import dev.cairn.http.HttpCacheServer;
import dev.cairn.store.disk.DiskBlobStore;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Optional;
import dev.cairn.grpc.UploadArea;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Clock;

/**
 * A running Cairn: the stores, the gRPC REAPI server (with the Remote Asset Fetch and Push
 * services, whose index lives under the store's {@code asset/} directory) and the HTTP cache
 * server, started together
 * and stopped together (in-flight requests finish first, then the stores are closed so the disk
 * store saves its LRU order).
 */
public final class CairnServer implements AutoCloseable {
  private static final Logger LOG = System.getLogger(CairnServer.class.getName());

  private final Stores stores;
  private final CairnGrpcServer grpc;
  private final HttpCacheServer http;
  private final PrometheusMeterRegistry registry;
  private final AssetResolver assets;

  private CairnServer(Stores stores, CairnGrpcServer grpc, HttpCacheServer http,
      PrometheusMeterRegistry registry, AssetResolver assets) {
    this.assets = assets;
    this.stores = stores;
    this.grpc = grpc;
    this.http = http;
    this.registry = registry;
  }

  /** Opens the stores and starts listening; on failure nothing is left running. */
  public static CairnServer start(ServerConfig config) throws IOException {
    Stores stores = Stores.open(config.store());
    AssetResolver assets = null;
    try {
      UploadArea uploads = new UploadArea(stores.uploadDirectory(), config.uploadExpiry(), Clock.systemUTC());
      assets = openAssets(stores, config);
      PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
      CairnGrpcServer grpc = new CairnGrpcServer(
          new CairnGrpcServer.Config(config.grpcListen(), config.maxBatchBytes(), config.shutdownGrace()),
          stores.backends(), uploads, List.of(new FetchService(assets), new PushService(assets)),
          registry);
      Optional<BlobFiles> files = stores.disk(DigestFunction.SHA256)
          .map(disk -> BlobFiles.of(
              disk::findByHash, disk::pathOf, disk::findIndexedByHash, disk::blobPath,
              listener -> disk.addEvictionListener(DiskBlobStore.EvictionListener.ofRemovals(listener))));
      HttpCacheServer http = new HttpCacheServer(
          new HttpCacheConfig(config.httpListen(), config.maxUploadBytes(), Duration.ofMinutes(5),
              config.httpOpenFiles()),
          stores.cas(DigestFunction.SHA256), stores.actionCache(DigestFunction.SHA256), files, registry);
      stores.disk(DigestFunction.SHA256).ifPresent(disk -> http.registerStoreUsage(() -> {
        DiskBlobStore.Stats s = disk.stats();
        return new HttpCacheServer.StoreUsage(s.bytesUsed(), s.blobCount(), s.maxSizeBytes());
      }));
      grpc.start();
      try {
        http.start();
      } catch (IOException | RuntimeException e) {
        closeQuietly(grpc, e);
        throw e;
      }
      CairnServer server = new CairnServer(stores, grpc, http, registry, assets);
      LOG.log(Level.INFO, "cairn serving gRPC on {0} and HTTP on {1} from {2}",
          format(grpc.address()), format(http.address()), stores.description());
      return server;
    } catch (IOException | RuntimeException e) {
      if (assets != null) {
        assets.close();
      }
      try {
        stores.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /** The asset index and resolver: on disk under the store root, else on the heap. */
  private static AssetResolver openAssets(Stores stores, ServerConfig config) throws IOException {
    Clock clock = Clock.systemUTC();
    AssetIndex index;
    Path work;
    if (stores.root().isPresent()) {
      Path assetDir = stores.root().get().resolve("asset");
      index = AssetIndex.open(assetDir.resolve("index"), clock, config.asset().maxIndexEntries());
      work = assetDir.resolve("work");
    } else {
      index = AssetIndex.inMemory(clock, config.asset().maxIndexEntries());
      work = Files.createTempDirectory("cairn-asset");
    }
    AssetResolver resolver = new AssetResolver(stores.allCas(), index, config.asset(),
        new PublicAddressPolicy(config.asset().allowPrivate()), work, clock);
    resolver.removeStaleDownloads(java.time.Duration.ofHours(1));
    return resolver;
  }

  /** The Remote Asset resolver this server answers Fetch and Push with. */
  public AssetResolver assets() {
    return assets;
  }

  private static void closeQuietly(CairnGrpcServer grpc, Exception cause) {
    try {
      grpc.close();
    } catch (Exception e) {
      cause.addSuppressed(e);
    }
  }

  public InetSocketAddress httpAddress() {
    return http.address();
  }

  public PrometheusMeterRegistry registry() {
    return registry;
  }

  public InetSocketAddress grpcAddress() {
    return grpc.address();
  }

  public Stores stores() {
    return stores;
  }

  static String format(InetSocketAddress a) {
    String host = a.getAddress() == null ? a.getHostString() : a.getAddress().getHostAddress();
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + a.getPort();
  }

  @Override
  public void close() throws Exception {
    try {
      http.close();
      grpc.close();
    } finally {
      assets.close();
      stores.close();
    }
  }
}
