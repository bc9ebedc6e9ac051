package dev.cairn.core.ac;

import dev.cairn.core.digest.Digest;
import java.util.Objects;

/**
 * The key of an action-cache entry: the instance name (which partitions the cache, as REAPI
 * allows) and the action's digest. HTTP clients have no instance: theirs is the empty string.
 */
public record ActionKey(String instanceName, Digest actionDigest) {
  public ActionKey {
    Objects.requireNonNull(instanceName, "instanceName");
    Objects.requireNonNull(actionDigest, "actionDigest");
    if (instanceName.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("instance name contains NUL");
    }
  }

  @Override
  public String toString() {
    return (instanceName.isEmpty() ? "" : instanceName + "/") + actionDigest;
  }
}
