// Load generator for bench/asset/collapse.sh: N concurrent Remote Asset FetchBlob calls of one URL
// against a Cairn server, all started together; prints the wall time until the last answer.
//
// Runs as a single-file source program on the classpath of Cairn's shaded jar (which carries
// grpc-netty-shaded, protobuf and the generated Remote Asset classes):
//
//   java -cp cairn-cli/target/cairn.jar bench/asset/AssetLoad.java --target HOST:PORT \
//        --url URL --clients N [--sri SRI] [--label NAME]
//
// The client is warmed up first with concurrent calls the server answers at once (a URN it does
// not know), so that the figure is the server's, not this JVM's start-up.
//
// Output: "RESULT <label> clients=N wall_ms=T digest=<hash>/<size>". Every answer must be OK and
// name the same digest, else the program exits with status 1 and says why on stderr.

import build.bazel.remote.asset.v1.FetchBlobRequest;
import build.bazel.remote.asset.v1.FetchBlobResponse;
import build.bazel.remote.asset.v1.FetchGrpc;
import build.bazel.remote.asset.v1.Qualifier;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

public class AssetLoad {
  public static void main(String[] args) throws Exception {
    Map<String, String> opt = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      opt.put(args[i].replaceFirst("^--", ""), args[i + 1]);
    }
    String[] target = opt.get("target").split(":");
    String url = opt.get("url");
    int clients = Integer.parseInt(opt.getOrDefault("clients", "100"));
    String label = opt.getOrDefault("label", "fetch");
    ManagedChannel channel = NettyChannelBuilder.forAddress(target[0], Integer.parseInt(target[1]))
        .usePlaintext().build();
    FetchGrpc.FetchBlockingStub stub = FetchGrpc.newBlockingStub(channel);
    FetchBlobRequest.Builder request = FetchBlobRequest.newBuilder().addUris(url);
    if (opt.containsKey("sri")) {
      request.addQualifiers(Qualifier.newBuilder().setName("checksum.sri").setValue(opt.get("sri")));
    }
    FetchBlobRequest built = request.build();
    // Connect first, so that channel set-up is not part of the measured time.
    channel.getState(true);
    for (int i = 0; i < 100 && channel.getState(false) != io.grpc.ConnectivityState.READY; i++) {
      Thread.sleep(10);
    }
    // Warm the client up (class loading, JIT, HTTP/2 streams) with as many concurrent calls for a
    // name the server answers at once (NOT_FOUND): only the measured calls' own cost remains.
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> warm = new ArrayList<>();
      for (int i = 0; i < Math.max(clients, 20); i++) {
        warm.add(pool.submit(() -> {
          try {
            stub.fetchBlob(FetchBlobRequest.newBuilder().addUris("urn:cairn:bench:warm-up").build());
          } catch (io.grpc.StatusRuntimeException expected) {
            // NOT_FOUND
          }
        }));
      }
      for (Future<?> w : warm) {
        w.get();
      }
    }
    CountDownLatch go = new CountDownLatch(1);
    List<Future<FetchBlobResponse>> answers = new ArrayList<>();
    long start;
    long end;
    try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < clients; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          return stub.withDeadlineAfter(10, TimeUnit.MINUTES).fetchBlob(built);
        }));
      }
      start = System.nanoTime();
      go.countDown();
      for (Future<FetchBlobResponse> a : answers) {
        a.get();
      }
      end = System.nanoTime();
    }
    String digest = null;
    for (Future<FetchBlobResponse> a : answers) {
      FetchBlobResponse r = a.get();
      if (r.getStatus().getCode() != 0) {
        System.err.println("AssetLoad: fetch failed: " + r.getStatus().getCode() + " " + r.getStatus().getMessage());
        System.exit(1);
      }
      String d = r.getBlobDigest().getHash() + "/" + r.getBlobDigest().getSizeBytes();
      if (digest != null && !digest.equals(d)) {
        System.err.println("AssetLoad: answers differ: " + digest + " vs " + d);
        System.exit(1);
      }
      digest = d;
    }
    channel.shutdownNow();
    System.out.printf("RESULT %s clients=%d wall_ms=%.1f digest=%s%n", label, clients, (end - start) / 1e6, digest);
  }
}
