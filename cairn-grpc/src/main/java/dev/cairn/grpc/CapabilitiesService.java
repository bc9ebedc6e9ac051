package dev.cairn.grpc;

import build.bazel.remote.execution.v2.ActionCacheUpdateCapabilities;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.bazel.semver.SemVer;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.stub.StreamObserver;

/**
 * Tells clients what this cache supports. Bazel calls it first and refuses a server that does not
 * enable action-cache updates or whose API version range excludes 2.0.
 */
public final class CapabilitiesService extends CapabilitiesGrpc.CapabilitiesImplBase {
  private final ServerCapabilities capabilities;

  public CapabilitiesService(Backends backends, long maxBatchTotalSizeBytes) {
    CacheCapabilities.Builder cache = CacheCapabilities.newBuilder()
        .setActionCacheUpdateCapabilities(
            ActionCacheUpdateCapabilities.newBuilder().setUpdateEnabled(true))
        .setMaxBatchTotalSizeBytes(maxBatchTotalSizeBytes)
        .setSymlinkAbsolutePathStrategy(SymlinkAbsolutePathStrategy.Value.ALLOWED)
        .addSupportedCompressors(Compressor.Value.ZSTD)
        .addSupportedBatchUpdateCompressors(Compressor.Value.ZSTD);
    for (DigestFunction f : DigestFunction.values()) {
      if (backends.cas().containsKey(f)) {
        cache.addDigestFunctions(f.toProto());
      }
    }
    this.capabilities = ServerCapabilities.newBuilder()
        .setCacheCapabilities(cache)
        .setLowApiVersion(SemVer.newBuilder().setMajor(2))
        .setHighApiVersion(SemVer.newBuilder().setMajor(2).setMinor(3))
        .build();
  }

  @Override
  public void getCapabilities(
      GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> response) {
    response.onNext(capabilities);
    response.onCompleted();
  }
}
