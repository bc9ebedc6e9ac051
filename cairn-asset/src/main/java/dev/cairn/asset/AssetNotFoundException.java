package dev.cairn.asset;

import java.io.IOException;

/**
 * No URI of a fetch is in the index (or its content is gone) and none is one Cairn can fetch from
 * an origin (for example a pushed URN such as BuildStream's artifact names). The service fails the
 * call with NOT_FOUND, which is what clients that only push and fetch names (BuildStream) expect
 * for a miss; a failure at an origin is reported in the response's status instead.
 */
public final class AssetNotFoundException extends IOException {
  public AssetNotFoundException(String message) {
    super(message);
  }
}
