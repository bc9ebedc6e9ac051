package dev.cairn.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Times every gRPC call the server answers, by method and status code, so that {@code /metrics}
 * shows what Bazel's FindMissingBlobs or a ByteStream upload cost the server: from the call's
 * headers arriving to its status being sent (so a unary call's time includes receiving and
 * parsing its request). A call the client cancels counts as {@code CANCELLED}. Timers are built
 * once per (method, code) and kept. Thread-safe.
 */
public final class GrpcMetrics implements ServerInterceptor {
  private final MeterRegistry registry;
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  public GrpcMetrics(MeterRegistry registry) {
    this.registry = registry;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    long start = System.nanoTime();
    String method = shortName(call.getMethodDescriptor().getFullMethodName());
    AtomicBoolean recorded = new AtomicBoolean();
    ServerCall<Q, R> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
      @Override
      public void close(Status status, Metadata trailers) {
        // Recorded before the status leaves, so a client that has its answer sees it counted.
        if (recorded.compareAndSet(false, true)) {
          record(method, status.getCode(), start);
        }
        super.close(status, trailers);
      }
    };
    ServerCall.Listener<Q> listener = next.startCall(timed, headers);
    return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(listener) {
      @Override
      public void onCancel() {
        if (recorded.compareAndSet(false, true)) {
          record(method, Status.Code.CANCELLED, start);
        }
        super.onCancel();
      }
    };
  }

  private void record(String method, Status.Code code, long startNanos) {
    timers.computeIfAbsent(method + ' ' + code, key -> Timer.builder("cairn.grpc.requests")
            .description("gRPC calls by method (service/method) and status code")
            .tag("method", method)
            .tag("code", code.name())
            .register(registry))
        .record(System.nanoTime() - startNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * {@code build.bazel.remote.execution.v2.ContentAddressableStorage/FindMissingBlobs} becomes
   * {@code ContentAddressableStorage/FindMissingBlobs}.
   */
  static String shortName(String fullMethodName) {
    int slash = fullMethodName.indexOf('/');
    int dot = fullMethodName.lastIndexOf('.', slash < 0 ? fullMethodName.length() : slash);
    return fullMethodName.substring(dot + 1);
  }
}
