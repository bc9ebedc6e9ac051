package dev.cairn.asset.grpc;

import build.bazel.remote.asset.v1.Qualifier;
import com.google.protobuf.Any;
import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import dev.cairn.asset.FetchException;
import dev.cairn.asset.MissingContentException;
import dev.cairn.asset.Qualifiers;
import dev.cairn.asset.UnsupportedQualifierException;
import dev.cairn.core.digest.Digest;
import dev.cairn.grpc.GrpcErrors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import java.time.Instant;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Conversions between the Remote Asset protos and {@link dev.cairn.asset} values, and the
 * asset-specific error mapping on top of {@link GrpcErrors}: unsupported qualifiers carry a
 * BadRequest detail, missing pushed content a PreconditionFailure, origin failures an inline status.
 */
final class AssetGrpc {
  private AssetGrpc() {}

  static Qualifiers qualifiers(List<Qualifier> list) {
    List<Map.Entry<String, String>> entries = new ArrayList<>();
    for (Qualifier q : list) {
      entries.add(new AbstractMap.SimpleImmutableEntry<>(q.getName(), q.getValue()));
    }
    return Qualifiers.of(entries);
  }

  static List<Qualifier> toProto(Qualifiers qualifiers) {
    List<Qualifier> out = new ArrayList<>();
    qualifiers.asMap().forEach((n, v) -> out.add(Qualifier.newBuilder().setName(n).setValue(v).build()));
    return out;
  }

  static Optional<Duration> duration(boolean present, com.google.protobuf.Duration d) {
    if (!present) {
      return Optional.empty();
    }
    Duration java = Duration.ofSeconds(d.getSeconds(), d.getNanos());
    if (java.isNegative()) {
      throw new IllegalArgumentException("negative timeout " + java);
    }
    return java.isZero() ? Optional.empty() : Optional.of(java);
  }

  static Optional<Instant> instant(boolean present, Timestamp t) {
    if (!present || (t.getSeconds() == 0 && t.getNanos() == 0)) {
      return Optional.empty();
    }
    return Optional.of(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
  }

  static Timestamp toProto(Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  static List<Digest> digests(List<build.bazel.remote.execution.v2.Digest> protos) {
    List<Digest> out = new ArrayList<>(protos.size());
    for (var p : protos) {
      out.add(Digest.fromProto(p));
    }
    return out;
  }

  /** The inline status for an origin failure, with the code the spec names for it. */
  static com.google.rpc.Status inlineStatus(FetchException e) {
    Code code = switch (e.reason()) {
      case NOT_FOUND -> Code.NOT_FOUND;
      case PERMISSION_DENIED -> Code.PERMISSION_DENIED;
      case DEADLINE_EXCEEDED -> Code.DEADLINE_EXCEEDED;
      case ABORTED -> Code.ABORTED;
      case RESOURCE_EXHAUSTED -> Code.RESOURCE_EXHAUSTED;
      case UNAVAILABLE -> Code.UNAVAILABLE;
    };
    return com.google.rpc.Status.newBuilder().setCode(code.getNumber())
        .setMessage(String.valueOf(e.getMessage())).build();
  }

  /** The call's error for anything but an origin failure. */
  static StatusRuntimeException toException(Throwable t) {
    return switch (t) {
      case UnsupportedQualifierException e -> {
        BadRequest.Builder bad = BadRequest.newBuilder();
        for (String name : e.names()) {
          bad.addFieldViolations(BadRequest.FieldViolation.newBuilder()
              .setField("qualifiers.name").setDescription("\"" + name + "\" not supported"));
        }
        yield StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
            .setCode(Code.INVALID_ARGUMENT.getNumber()).setMessage(e.getMessage())
            .addDetails(Any.pack(bad.build())).build());
      }
      case MissingContentException e -> {
        PreconditionFailure.Builder failure = PreconditionFailure.newBuilder();
        for (Digest d : e.missing()) {
          failure.addViolations(PreconditionFailure.Violation.newBuilder()
              .setType("MISSING").setSubject("blobs/" + d.hash() + "/" + d.sizeBytes()));
        }
        yield StatusProto.toStatusRuntimeException(com.google.rpc.Status.newBuilder()
            .setCode(Code.FAILED_PRECONDITION.getNumber()).setMessage(e.getMessage())
            .addDetails(Any.pack(failure.build())).build());
      }
      case dev.cairn.asset.AssetNotFoundException e ->
          Status.NOT_FOUND.withDescription(e.getMessage()).withCause(e).asRuntimeException();
      case UnsupportedOperationException e ->
          Status.UNIMPLEMENTED.withDescription(e.getMessage()).withCause(e).asRuntimeException();
      default -> GrpcErrors.toException(t);
    };
  }
}
