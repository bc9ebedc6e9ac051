package dev.cairn.core.ac;

import java.io.IOException;
import java.util.Optional;

/**
 * Results of actions, by {@link ActionKey}. Values are bytes: a serialized REAPI {@code
 * ActionResult} for gRPC and Bazel's HTTP protocol, or a client's own format (ccache stores its
 * results under {@code /ac/} too). {@link CompletenessCheckingActionCache} is what makes a hit
 * trustworthy. Implementations are thread-safe.
 */
public interface ActionCache {

  /** The value stored for the key, if any. */
  Optional<byte[]> get(ActionKey key) throws IOException;

  /** Stores (or replaces) the value for the key. */
  void put(ActionKey key, byte[] value) throws IOException;
}
