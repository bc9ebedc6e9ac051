package dev.cairn.server;

import dev.cairn.store.disk.DiskStoreConfig;
import java.lang.management.ManagementFactory;
import java.util.concurrent.atomic.AtomicLong;
import java.net.InetSocketAddress;
import java.nio.file.Path;

/**
 * A server in its own JVM for tests that need one (memory limits, signals): prints its gRPC port,
 * serves until stdin closes, then prints the heap retained before and after, and the peak sampled after full collections
 * (which also counts what was allocated between a collection and the sample).
 */
public final class ChildServer {
  private ChildServer() {}

  /** The largest live heap: occupancy right after a full collection, sampled every second. */
  private static final AtomicLong PEAK_LIVE = new AtomicLong();

  /** Heap occupancy after full collections while nothing is happening: what is retained. */
  static long quietLiveHeap() {
    System.gc();
    System.gc();
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  public static void main(String[] args) throws Exception {
    Thread sampler = Thread.ofPlatform().daemon(true).start(() -> {
      while (true) {
        System.gc(); // with ZGC a synchronous major collection
        long used = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        PEAK_LIVE.accumulateAndGet(used, Math::max);
        if (System.getenv("CAIRN_HEAP_TRACE") != null) {
          System.err.println("live heap " + (used >> 20) + " MiB");
        }
        try {
          Thread.sleep(1000);
        } catch (InterruptedException e) {
          return;
        }
      }
    });
    InetSocketAddress any = new InetSocketAddress("127.0.0.1", 0);
    try (CairnServer server = CairnServer.start(ServerConfig.defaults(
        new StoreConfig.Disk(DiskStoreConfig.at(Path.of(args[0])).withMaxSize(64L << 30)))
        .withListen(any, any))) {
      System.out.println("port " + server.grpcAddress().getPort());
      System.out.println("heap-before " + quietLiveHeap());
      System.out.flush();
      while (System.in.read() >= 0) {
        // wait for the parent to close stdin
      }
    }
    sampler.interrupt();
    System.out.println("heap-after " + quietLiveHeap());
    System.out.println("heap-peak " + PEAK_LIVE.get());
  }
}
