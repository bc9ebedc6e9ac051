package dev.cairn.http;

import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * A server in a JVM of its own, for tests that bound its heap ({@code -Xmx256m}): one disk store
 * at {@code args[0]}, served twice: with zero-copy file sends, and with reads streamed from the
 * store's {@code openRead} (no file paths).
 * Prints {@code PORTS <files> <stream>} and runs until its standard input closes.
 */
public final class StandaloneServer {
  private StandaloneServer() {}

  public static void main(String[] args) throws Exception {
    long maxStore = 16L << 30;
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(Path.of(args[0])).withMaxSize(maxStore))) {
      var ac = new CompletenessCheckingActionCache(new DiskActionCache(store.root(), store), store);
      var config = new HttpCacheConfig(new InetSocketAddress("127.0.0.1", 0), maxStore, Duration.ofMinutes(2));
      try (HttpCacheServer files = new HttpCacheServer(config, store, ac,
              Optional.of(BlobFiles.of(
                store::findByHash, store::pathOf, store::findIndexedByHash, store::blobPath)),
              new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
          HttpCacheServer streams = new HttpCacheServer(config, store, ac,
              Optional.of(BlobFiles.of(store::findByHash, digest -> Optional.empty())),
              new PrometheusMeterRegistry(PrometheusConfig.DEFAULT))) {
        files.start();
        streams.start();
        System.out.println("PORTS " + files.address().getPort() + " " + streams.address().getPort());
        System.out.flush();
        while (System.in.read() >= 0) {
          // run until the parent closes our input
        }
      }
    }
  }
}
