package dev.cairn.grpc;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cairn.core.ac.ActionKey;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

/**
 * The REAPI action cache. Lookups go through the completeness-checking cache the wiring gives,
 * so a result whose outputs were evicted is NOT_FOUND; inline stdout/stderr/output files are
 * filled in from the CAS when asked for and small enough.
 */
public final class ActionCacheService extends ActionCacheGrpc.ActionCacheImplBase {
  private static final long MAX_INLINE_BYTES = 1 << 20;

  private final Backends backends;

  public ActionCacheService(Backends backends) {
    this.backends = backends;
  }

  @Override
  public void getActionResult(GetActionResultRequest request, StreamObserver<ActionResult> response) {
    try {
      Digest action = Digest.fromProto(request.getActionDigest());
      ActionKey key = new ActionKey(request.getInstanceName(), action);
      Optional<byte[]> value = backends.actionCache(request.getDigestFunction()).get(key);
      if (value.isEmpty()) {
        response.onError(Status.NOT_FOUND
            .withDescription("no action result for " + key).asRuntimeException());
        return;
      }
      ActionResult result;
      try {
        result = ActionResult.parseFrom(value.get());
      } catch (InvalidProtocolBufferException e) {
        response.onError(Status.NOT_FOUND
            .withDescription("entry for " + key + " is not an ActionResult").asRuntimeException());
        return;
      }
      response.onNext(inline(request, result));
      response.onCompleted();
    } catch (Exception e) {
      response.onError(GrpcErrors.toException(e));
    }
  }

  private ActionResult inline(GetActionResultRequest request, ActionResult result) throws Exception {
    if (!request.getInlineStdout() && !request.getInlineStderr()
        && request.getInlineOutputFilesCount() == 0) {
      return result;
    }
    BlobStore cas = backends.cas(request.getDigestFunction());
    long budget = MAX_INLINE_BYTES;
    ActionResult.Builder b = result.toBuilder();
    if (request.getInlineStdout() && result.hasStdoutDigest()
        && result.getStdoutDigest().getSizeBytes() <= budget) {
      b.setStdoutRaw(ByteString.copyFrom(cas.get(Digest.fromProto(result.getStdoutDigest()))));
      budget -= result.getStdoutDigest().getSizeBytes();
    }
    if (request.getInlineStderr() && result.hasStderrDigest()
        && result.getStderrDigest().getSizeBytes() <= budget) {
      b.setStderrRaw(ByteString.copyFrom(cas.get(Digest.fromProto(result.getStderrDigest()))));
      budget -= result.getStderrDigest().getSizeBytes();
    }
    Set<String> wanted = new HashSet<>(request.getInlineOutputFilesList());
    for (int i = 0; i < b.getOutputFilesCount(); i++) {
      OutputFile f = b.getOutputFiles(i);
      if (wanted.contains(f.getPath()) && f.getDigest().getSizeBytes() <= budget) {
        b.setOutputFiles(i, f.toBuilder()
            .setContents(ByteString.copyFrom(cas.get(Digest.fromProto(f.getDigest())))));
        budget -= f.getDigest().getSizeBytes();
      }
    }
    return b.build();
  }

  @Override
  public void updateActionResult(UpdateActionResultRequest request, StreamObserver<ActionResult> response) {
    try {
      Digest action = Digest.fromProto(request.getActionDigest());
      ActionResult result = request.getActionResult();
      // Inlined contents live in the CAS; the stored result refers to them by digest only.
      BlobStore cas = backends.cas(request.getDigestFunction());
      ActionResult.Builder stored = result.toBuilder();
      if (!result.getStdoutRaw().isEmpty()) {
        stored.setStdoutDigest(cas.put(result.getStdoutRaw().toByteArray()).toProto()).clearStdoutRaw();
      }
      if (!result.getStderrRaw().isEmpty()) {
        stored.setStderrDigest(cas.put(result.getStderrRaw().toByteArray()).toProto()).clearStderrRaw();
      }
      for (int i = 0; i < stored.getOutputFilesCount(); i++) {
        OutputFile f = stored.getOutputFiles(i);
        Digest.fromProto(f.getDigest());
        if (!f.getContents().isEmpty()) {
          cas.put(Digest.fromProto(f.getDigest()), f.getContents().toByteArray());
          stored.setOutputFiles(i, f.toBuilder().clearContents());
        }
      }
      ActionKey key = new ActionKey(request.getInstanceName(), action);
      backends.actionCache(request.getDigestFunction()).put(key, stored.build().toByteArray());
      response.onNext(result);
      response.onCompleted();
    } catch (Exception e) {
      response.onError(GrpcErrors.toException(e));
    }
  }
}
