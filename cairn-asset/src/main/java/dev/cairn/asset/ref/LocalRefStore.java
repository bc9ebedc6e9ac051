package dev.cairn.asset.ref;

import dev.cairn.asset.AssetEntry;
import dev.cairn.asset.AssetIndex;
import dev.cairn.asset.AssetKey;
import dev.cairn.asset.AssetKey.Kind;
import dev.cairn.asset.AssetResolver;
import dev.cairn.asset.MissingContentException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.ref.RefStore;
import java.io.IOException;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Refs kept in a local asset index, as directory mappings under {@code urn:cairn:ref:NAME} with no
 * qualifiers and the empty instance, exactly as a PushDirectory of that URI would record them; so
 * {@code cairn serve} answers FetchDirectory of a ref set locally on its store, and the other way
 * round. A ref whose tree is no longer complete in the CAS reads as absent. Thread-safe.
 */
public final class LocalRefStore implements RefStore {
  private final AssetIndex index;
  private final BlobStore cas;
  private final InstantSource clock;

  public LocalRefStore(AssetIndex index, BlobStore cas, InstantSource clock) {
    this.index = Objects.requireNonNull(index, "index");
    this.cas = Objects.requireNonNull(cas, "cas");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  private AssetKey key(String name) {
    return AssetKey.of(Kind.DIRECTORY, "", cas.digestFunction(), RefStore.uri(name), Map.of());
  }

  @Override
  public Optional<Digest> get(String name) throws IOException {
    AssetKey key = key(name);
    Optional<AssetEntry> entry = index.get(key);
    if (entry.isEmpty()) {
      return Optional.empty();
    }
    if (!AssetResolver.complete(cas, Kind.DIRECTORY, entry.get().digest())) {
      return Optional.empty();
    }
    return Optional.of(entry.get().digest());
  }

  /**
   * @throws MissingContentException if the tree is not complete in the CAS; the ref is unchanged
   */
  @Override
  public void set(String name, Digest root) throws IOException {
    AssetKey key = key(name);
    if (!AssetResolver.complete(cas, Kind.DIRECTORY, root)) {
      throw new MissingContentException("ref " + name + " -> " + root, List.of(root));
    }
    index.put(key, new AssetEntry(root, clock.instant(), Optional.empty()));
  }
}
