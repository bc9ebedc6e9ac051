package dev.cairn.grpc;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobTooLargeException;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.tree.InvalidTreeException;
import io.grpc.Status;
import io.grpc.StatusException;
import io.grpc.StatusRuntimeException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;

/**
 * The one place where Cairn's exceptions become gRPC status codes, so that every service answers
 * the same failure the same way and the core never sees {@code io.grpc.Status}.
 */
public final class GrpcErrors {
  private static final Logger LOG = System.getLogger(GrpcErrors.class.getName());

  private GrpcErrors() {}

  /** The status for a failure; unexpected ones are logged and reported as INTERNAL. */
  public static Status toStatus(Throwable t) {
    return switch (t) {
      case StatusRuntimeException s -> s.getStatus();
      case StatusException s -> s.getStatus();
      case BlobNotFoundException e -> Status.NOT_FOUND.withDescription(e.getMessage());
      case DigestMismatchException e -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
      case StoreFullException e -> Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage());
      case BlobTooLargeException e -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
      case InvalidTreeException e -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
      case IllegalArgumentException e -> Status.INVALID_ARGUMENT.withDescription(e.getMessage());
      case java.io.InterruptedIOException e -> Status.CANCELLED.withDescription(e.getMessage());
      default -> {
        LOG.log(Level.ERROR, "internal error", t);
        yield Status.INTERNAL.withDescription(String.valueOf(t.getMessage()));
      }
    };
  }

  public static StatusRuntimeException toException(Throwable t) {
    return toStatus(t).withCause(t).asRuntimeException();
  }

  /** A google.rpc.Status for per-blob results in batch responses. */
  public static com.google.rpc.Status toRpcStatus(Throwable t) {
    Status s = toStatus(t);
    return com.google.rpc.Status.newBuilder()
        .setCode(s.getCode().value())
        .setMessage(s.getDescription() == null ? "" : s.getDescription())
        .build();
  }

  public static final com.google.rpc.Status OK = com.google.rpc.Status.newBuilder().setCode(0).build();
}
