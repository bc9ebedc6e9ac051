package dev.cairn.server;

import dev.cairn.store.disk.DiskStoreConfig;

/**
 * Where a server keeps blobs and action results. One exhaustive switch in {@link Stores} turns
 * each kind into objects; later kinds (S3, Redis, sharded, mirrored) join this sealed family.
 */
public sealed interface StoreConfig {

  /** The embedded default: one directory on local disk. */
  record Disk(DiskStoreConfig disk) implements StoreConfig {}

  /** Everything on the heap, gone at exit: for tests and throw-away servers. */
  record Memory() implements StoreConfig {}
}
