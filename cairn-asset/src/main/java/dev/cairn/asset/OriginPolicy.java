package dev.cairn.asset;

import java.io.IOException;
import java.net.URI;

/**
 * Decides whether Cairn may contact an origin. The default refuses loopback, private, link-local
 * and cloud metadata addresses (checked on the resolved address, and again on every redirect), so
 * that a client cannot use the server to reach what only the server can reach.
 */
@FunctionalInterface
public interface OriginPolicy {

  /** Returns normally if {@code uri} may be contacted, else throws naming the reason. */
  void check(URI uri) throws IOException;
}
