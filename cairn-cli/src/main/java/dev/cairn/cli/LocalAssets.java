package dev.cairn.cli;

import dev.cairn.asset.AssetConfig;
import dev.cairn.asset.AssetIndex;
import dev.cairn.asset.AssetResolver;
import dev.cairn.asset.PublicAddressPolicy;
import dev.cairn.core.blob.BlobStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;

/**
 * The asset index and resolver of the local store, laid out as {@code cairn serve} lays them out
 * ({@code <store>/asset/index}, {@code <store>/asset/work}), so a server started on the same store
 * sees what {@code cairn fetch} and {@code cairn ref set} recorded. The CLI never trims the index
 * (its bound is the server's setting); the server does at its next start.
 */
final class LocalAssets {
  private LocalAssets() {}

  static AssetIndex index(Path store) throws IOException {
    return AssetIndex.open(store.resolve("asset").resolve("index"), Clock.systemUTC(), Long.MAX_VALUE);
  }

  static AssetResolver resolver(Path store, BlobStore cas, AssetConfig config) throws IOException {
    return new AssetResolver(Map.of(cas.digestFunction(), cas), index(store), config,
        new PublicAddressPolicy(config.allowPrivate()), store.resolve("asset").resolve("work"), Clock.systemUTC());
  }
}
