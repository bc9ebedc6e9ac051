package dev.cairn.asset.grpc;

import build.bazel.remote.asset.v1.FetchBlobRequest;
import build.bazel.remote.asset.v1.FetchBlobResponse;
import build.bazel.remote.asset.v1.FetchDirectoryRequest;
import build.bazel.remote.asset.v1.FetchDirectoryResponse;
import build.bazel.remote.asset.v1.FetchGrpc;
import dev.cairn.asset.AssetKey.Kind;
import dev.cairn.asset.AssetResolver;
import dev.cairn.asset.FetchException;
import dev.cairn.asset.FetchRequest;
import dev.cairn.asset.FetchResult;
import dev.cairn.asset.Qualifiers;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/**
 * The Remote Asset Fetch service: FetchBlob and FetchDirectory answered by the {@link
 * AssetResolver} (index, else origin). Invalid requests (no URIs, unsupported qualifiers) fail
 * the call with INVALID_ARGUMENT; failures at the origin are answered in the response's {@code
 * status}, as the spec asks.
 */
public final class FetchService extends FetchGrpc.FetchImplBase {
  private final AssetResolver resolver;

  public FetchService(AssetResolver resolver) {
    this.resolver = Objects.requireNonNull(resolver, "resolver");
  }

  @Override
  public void fetchBlob(FetchBlobRequest request, StreamObserver<FetchBlobResponse> response) {
    Qualifiers qualifiers;
    FetchRequest fetch;
    try {
      qualifiers = AssetGrpc.qualifiers(request.getQualifiersList());
      DigestFunction function = DigestFunction.fromProto(request.getDigestFunction(), DigestFunction.SHA256);
      fetch = new FetchRequest(Kind.BLOB, request.getInstanceName(), function, request.getUrisList(),
          qualifiers, AssetGrpc.duration(request.hasTimeout(), request.getTimeout()),
          AssetGrpc.instant(request.hasOldestContentAccepted(), request.getOldestContentAccepted()));
    } catch (RuntimeException e) {
      response.onError(AssetGrpc.toException(e));
      return;
    }
    FetchBlobResponse.Builder out = FetchBlobResponse.newBuilder()
        .addAllQualifiers(AssetGrpc.toProto(qualifiers))
        .setDigestFunction(fetch.function().toProto());
    try {
      FetchResult result = resolver.fetch(fetch);
      out.setUri(result.uri()).setBlobDigest(result.digest().toProto());
      result.expiresAt().ifPresent(e -> out.setExpiresAt(AssetGrpc.toProto(e)));
    } catch (FetchException e) {
      out.setStatus(AssetGrpc.inlineStatus(e)).setUri(e.uri());
    } catch (Exception e) {
      response.onError(AssetGrpc.toException(e));
      return;
    }
    response.onNext(out.build());
    response.onCompleted();
  }

  @Override
  public void fetchDirectory(FetchDirectoryRequest request, StreamObserver<FetchDirectoryResponse> response) {
    Qualifiers qualifiers;
    FetchRequest fetch;
    try {
      qualifiers = AssetGrpc.qualifiers(request.getQualifiersList());
      DigestFunction function = DigestFunction.fromProto(request.getDigestFunction(), DigestFunction.SHA256);
      fetch = new FetchRequest(Kind.DIRECTORY, request.getInstanceName(), function, request.getUrisList(),
          qualifiers, AssetGrpc.duration(request.hasTimeout(), request.getTimeout()),
          AssetGrpc.instant(request.hasOldestContentAccepted(), request.getOldestContentAccepted()));
    } catch (RuntimeException e) {
      response.onError(AssetGrpc.toException(e));
      return;
    }
    FetchDirectoryResponse.Builder out = FetchDirectoryResponse.newBuilder()
        .addAllQualifiers(AssetGrpc.toProto(qualifiers))
        .setDigestFunction(fetch.function().toProto());
    try {
      FetchResult result = resolver.fetch(fetch);
      out.setUri(result.uri()).setRootDirectoryDigest(result.digest().toProto());
      result.expiresAt().ifPresent(e -> out.setExpiresAt(AssetGrpc.toProto(e)));
    } catch (FetchException e) {
      out.setStatus(AssetGrpc.inlineStatus(e)).setUri(e.uri());
    } catch (Exception e) {
      response.onError(AssetGrpc.toException(e));
      return;
    }
    response.onNext(out.build());
    response.onCompleted();
  }
}
