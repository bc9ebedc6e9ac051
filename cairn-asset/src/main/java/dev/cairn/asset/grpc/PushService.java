package dev.cairn.asset.grpc;

import build.bazel.remote.asset.v1.PushBlobRequest;
import build.bazel.remote.asset.v1.PushBlobResponse;
import build.bazel.remote.asset.v1.PushDirectoryRequest;
import build.bazel.remote.asset.v1.PushDirectoryResponse;
import build.bazel.remote.asset.v1.PushGrpc;
import dev.cairn.asset.AssetKey.Kind;
import dev.cairn.asset.AssetResolver;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.stub.StreamObserver;
import java.util.Objects;

/**
 * The Remote Asset Push service: client-given name -> content mappings (how BuildStream stores
 * its artifacts), recorded in the asset index once the content is known to be in the CAS. An
 * empty request (no URIs) is INVALID_ARGUMENT, which is what BuildStream's probe looks for.
 */
public final class PushService extends PushGrpc.PushImplBase {
  private final AssetResolver resolver;

  public PushService(AssetResolver resolver) {
    this.resolver = Objects.requireNonNull(resolver, "resolver");
  }

  @Override
  public void pushBlob(PushBlobRequest request, StreamObserver<PushBlobResponse> response) {
    try {
      if (!request.hasBlobDigest() && request.getUrisCount() > 0) {
        throw new IllegalArgumentException("push of " + request.getUris(0) + " has no blob_digest");
      }
      resolver.push(Kind.BLOB, request.getInstanceName(),
          DigestFunction.fromProto(request.getDigestFunction(), DigestFunction.SHA256),
          request.getUrisList(), AssetGrpc.qualifiers(request.getQualifiersList()),
          request.getUrisCount() == 0 ? null : Digest.fromProto(request.getBlobDigest()),
          AssetGrpc.instant(request.hasExpireAt(), request.getExpireAt()),
          AssetGrpc.digests(request.getReferencesBlobsList()),
          AssetGrpc.digests(request.getReferencesDirectoriesList()));
      response.onNext(PushBlobResponse.getDefaultInstance());
      response.onCompleted();
    } catch (Exception e) {
      response.onError(AssetGrpc.toException(e));
    }
  }

  @Override
  public void pushDirectory(PushDirectoryRequest request, StreamObserver<PushDirectoryResponse> response) {
    try {
      if (!request.hasRootDirectoryDigest() && request.getUrisCount() > 0) {
        throw new IllegalArgumentException("push of " + request.getUris(0) + " has no root_directory_digest");
      }
      resolver.push(Kind.DIRECTORY, request.getInstanceName(),
          DigestFunction.fromProto(request.getDigestFunction(), DigestFunction.SHA256),
          request.getUrisList(), AssetGrpc.qualifiers(request.getQualifiersList()),
          request.getUrisCount() == 0 ? null : Digest.fromProto(request.getRootDirectoryDigest()),
          AssetGrpc.instant(request.hasExpireAt(), request.getExpireAt()),
          AssetGrpc.digests(request.getReferencesBlobsList()),
          AssetGrpc.digests(request.getReferencesDirectoriesList()));
      response.onNext(PushDirectoryResponse.getDefaultInstance());
      response.onCompleted();
    } catch (Exception e) {
      response.onError(AssetGrpc.toException(e));
    }
  }
}
