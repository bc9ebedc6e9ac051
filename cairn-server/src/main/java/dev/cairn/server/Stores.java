package dev.cairn.server;

import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.ac.ActionKey;
import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.grpc.Backends;
import dev.cairn.store.disk.DiskActionCache;
import dev.cairn.store.disk.DiskBlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The opened stores of a server: a CAS and a completeness-checked action cache per digest
 * function, built from a {@link StoreConfig}, closed together.
 */
public final class Stores implements AutoCloseable {
  private final Map<DigestFunction, BlobStore> cas;
  private final Map<DigestFunction, ActionCache> actionCaches;
  private final Path uploadDir;
  private final List<AutoCloseable> closeables;
  private final String description;
  private final Optional<Path> root;

  private Stores(Map<DigestFunction, BlobStore> cas, Map<DigestFunction, ActionCache> actionCaches,
      Path uploadDir, List<AutoCloseable> closeables, String description, Optional<Path> root) {
    this.root = root;
    this.cas = cas;
    this.actionCaches = actionCaches;
    this.uploadDir = uploadDir;
    this.closeables = closeables;
    this.description = description;
  }

  public static Stores open(StoreConfig config) throws IOException {
    Map<DigestFunction, BlobStore> cas = new EnumMap<>(DigestFunction.class);
    Map<DigestFunction, ActionCache> acs = new EnumMap<>(DigestFunction.class);
    List<AutoCloseable> closeables = new ArrayList<>();
    return switch (config) {
      case StoreConfig.Disk disk -> {
        Path root = disk.disk().root();
        for (DigestFunction f : DigestFunction.values()) {
          DiskBlobStore store = DiskBlobStore.open(disk.disk().withDigestFunction(f));
          closeables.add(store);
          cas.put(f, store);
          acs.put(f, new CompletenessCheckingActionCache(new DiskActionCache(root, store), store));
        }
        DiskBlobStore.Stats stats = ((DiskBlobStore) cas.get(DigestFunction.SHA256)).stats();
        yield new Stores(cas, acs, root.resolve("uploads"), closeables,
            "disk store " + root + " (" + stats.blobCount() + " blobs, " + stats.bytesUsed()
                + " of " + stats.maxSizeBytes() + " bytes)", Optional.of(root));
      }
      case StoreConfig.Memory memory -> {
        for (DigestFunction f : DigestFunction.values()) {
          InMemoryBlobStore store = new InMemoryBlobStore(f);
          cas.put(f, store);
          acs.put(f, new CompletenessCheckingActionCache(new MemoryActionCache(), store));
        }
        Path uploads = Files.createTempDirectory("cairn-uploads");
        yield new Stores(cas, acs, uploads, closeables, "memory store", Optional.empty());
      }
    };
  }

  public Backends backends() {
    return new Backends(cas, actionCaches);
  }

  public BlobStore cas(DigestFunction function) {
    return cas.get(function);
  }

  public ActionCache actionCache(DigestFunction function) {
    return actionCaches.get(function);
  }

  /** The disk store behind a function, if the CAS is on disk (for zero-copy file sends). */
  public Optional<DiskBlobStore> disk(DigestFunction function) {
    return cas.get(function) instanceof DiskBlobStore d ? Optional.of(d) : Optional.empty();
  }

  /** The store's directory, if it is on disk (the asset index lives under it). */
  public Optional<Path> root() {
    return root;
  }

  /** Every CAS, by digest function. */
  public Map<DigestFunction, BlobStore> allCas() {
    return Map.copyOf(cas);
  }

  public Path uploadDirectory() {
    return uploadDir;
  }

  /** One line for the start-up log. */
  public String description() {
    return description;
  }

  @Override
  public void close() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** Action results on the heap, for the memory store. */
  private static final class MemoryActionCache implements ActionCache {
    private final Map<ActionKey, byte[]> entries = new ConcurrentHashMap<>();

    @Override
    public Optional<byte[]> get(ActionKey key) {
      return Optional.ofNullable(entries.get(key));
    }

    @Override
    public void put(ActionKey key, byte[] value) {
      entries.put(key, value.clone());
    }
  }
}
