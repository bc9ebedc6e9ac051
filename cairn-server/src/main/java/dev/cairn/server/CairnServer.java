package dev.cairn.server;

import dev.cairn.grpc.CairnGrpcServer;
import dev.cairn.grpc.UploadArea;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.time.Clock;

/**
 * A running Cairn: the stores, the gRPC REAPI server and the HTTP cache server, started together
 * and stopped together (in-flight requests finish first, then the stores are closed so the disk
 * store saves its LRU order).
 */
public final class CairnServer implements AutoCloseable {
  private static final Logger LOG = System.getLogger(CairnServer.class.getName());

  private final Stores stores;
  private final CairnGrpcServer grpc;

  private CairnServer(Stores stores, CairnGrpcServer grpc) {
    this.stores = stores;
    this.grpc = grpc;
  }

  /** Opens the stores and starts listening; on failure nothing is left running. */
  public static CairnServer start(ServerConfig config) throws IOException {
    Stores stores = Stores.open(config.store());
    try {
      UploadArea uploads = new UploadArea(stores.uploadDirectory(), config.uploadExpiry(), Clock.systemUTC());
      CairnGrpcServer grpc = new CairnGrpcServer(
          new CairnGrpcServer.Config(config.grpcListen(), config.maxBatchBytes(), config.shutdownGrace()),
          stores.backends(), uploads);
      grpc.start();
      CairnServer server = new CairnServer(stores, grpc);
      LOG.log(Level.INFO, "cairn serving gRPC on {0} from {1}",
          format(grpc.address()), stores.description());
      return server;
    } catch (IOException | RuntimeException e) {
      try {
        stores.close();
      } catch (Exception suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
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
      grpc.close();
    } finally {
      stores.close();
    }
  }
}
