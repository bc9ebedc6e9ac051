package dev.cairn.cli;

import dev.cairn.asset.ref.LocalRefStore;
import dev.cairn.asset.ref.RemoteRefStore;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.ref.RefStore;
import dev.cairn.core.tree.TreeUploader;
import dev.cairn.fuse.cas.BlobSource;
import dev.cairn.fuse.cas.LocalFirstBlobStore;
import dev.cairn.store.disk.DiskBlobStore;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Clock;
import java.util.Optional;

/**
 * The refs a mount reads ({@code ref:NAME}) and publishes to ({@code --ref}): the local store's
 * asset index, or with {@code --remote} the server's Remote Asset service. A tree captured from a
 * mount lives in the local store, so before a remote ref moves to it, what the server lacks of it
 * is uploaded (the server refuses a ref to an incomplete tree).
 */
final class MountRefs implements AutoCloseable {
  private final RefStore store;
  private final String where;
  private final AutoCloseable resource;

  private MountRefs(RefStore store, String where, AutoCloseable resource) {
    this.store = store;
    this.where = where;
    this.resource = resource;
  }

  static MountRefs open(CairnCommand cairn, DiskBlobStore local, Optional<BlobStore> remote)
      throws IOException {
    if (remote.isEmpty()) {
      return new MountRefs(new LocalRefStore(LocalAssets.index(cairn.storePath()), local,
          Clock.systemUTC()), "in the store at " + cairn.storePath(), null);
    }
    String url = cairn.remote().orElseThrow();
    RemoteRefStore refs = RemoteRefStore.connect(url, cairn.digestFunction());
    BlobStore source = new LocalFirstBlobStore(new BlobSource(local, remote));
    RefStore uploading = new RefStore() {
      @Override
      public Optional<Digest> get(String name) throws IOException {
        try {
          return refs.get(name);
        } catch (StatusRuntimeException e) {
          throw failure(url, e);
        }
      }

      @Override
      public void set(String name, Digest root) throws IOException {
        try {
          TreeUploader.Result sent = new TreeUploader(source, remote.get()).upload(root);
          System.getLogger("cairn").log(System.Logger.Level.INFO, "uploaded " + sent.missing()
              + " of " + sent.blobs() + " blobs (" + sent.missingBytes() + " bytes) of " + root
              + " to " + url);
          refs.set(name, root);
        } catch (StatusRuntimeException e) {
          throw failure(url, e);
        }
      }
    };
    return new MountRefs(uploading, "on " + url, refs);
  }

  private static IOException failure(String url, StatusRuntimeException e) {
    return new IOException(url + ": " + e.getStatus().getCode() + ": "
        + e.getStatus().getDescription(), e);
  }

  RefStore store() {
    return store;
  }

  /** Where the refs are, for messages: "in the store at DIR" or "on URL". */
  String where() {
    return where;
  }

  @Override
  public void close() throws Exception {
    if (resource != null) {
      resource.close();
    }
  }
}
