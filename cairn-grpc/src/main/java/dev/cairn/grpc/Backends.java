package dev.cairn.grpc;

import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.DigestFunction;
import java.util.Map;
import java.util.Objects;

/**
 * What the gRPC services serve: one CAS and one action cache per supported digest function. A
 * request naming a function the server lacks is INVALID_ARGUMENT; one naming none uses SHA-256.
 * The CAS is shared by all instance names (content addressing makes that safe); the action cache
 * is partitioned by instance name through {@link dev.cairn.core.ac.ActionKey}.
 */
public record Backends(Map<DigestFunction, BlobStore> cas, Map<DigestFunction, ActionCache> actionCaches) {

  public Backends {
    cas = Map.copyOf(Objects.requireNonNull(cas, "cas"));
    actionCaches = Map.copyOf(Objects.requireNonNull(actionCaches, "actionCaches"));
    if (!cas.containsKey(DigestFunction.SHA256)) {
      throw new IllegalArgumentException("a SHA-256 CAS is required");
    }
  }

  public BlobStore cas(DigestFunction function) {
    BlobStore store = cas.get(function);
    if (store == null) {
      throw new IllegalArgumentException("digest function " + function.cliName() + " is not served here");
    }
    return store;
  }

  public BlobStore cas(build.bazel.remote.execution.v2.DigestFunction.Value value) {
    return cas(DigestFunction.fromProto(value, DigestFunction.SHA256));
  }

  public ActionCache actionCache(build.bazel.remote.execution.v2.DigestFunction.Value value) {
    DigestFunction function = DigestFunction.fromProto(value, DigestFunction.SHA256);
    ActionCache ac = actionCaches.get(function);
    if (ac == null) {
      throw new IllegalArgumentException(
          "digest function " + function.cliName() + " has no action cache here");
    }
    return ac;
  }
}
