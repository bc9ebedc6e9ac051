package dev.cairn.core.tree;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Makes a tree complete in another store: walks it in {@code source}, asks {@code target} which of
 * its blobs (Directory messages and file contents) are missing, in batches, and streams just those
 * across. What {@code target} already has is neither read nor sent, so publishing a tree that
 * changed in one file moves that file and the Directory blobs on its path.
 */
public final class TreeUploader {

  /** Digests per {@code findMissing} call: bounded request size for remote stores. */
  static final int BATCH = 1_000;

  /** What one upload did. */
  public record Result(int blobs, long bytes, int missing, long missingBytes) {}

  private final BlobStore source;
  private final BlobStore target;

  public TreeUploader(BlobStore source, BlobStore target) {
    this.source = Objects.requireNonNull(source, "source");
    this.target = Objects.requireNonNull(target, "target");
  }

  /**
   * Uploads what {@code target} lacks of the tree below {@code root}.
   *
   * @return how many distinct blobs the tree has and how many were sent
   * @throws dev.cairn.core.blob.BlobNotFoundException if {@code source} lacks a blob the target
   *     also lacks
   */
  public Result upload(Digest root) throws IOException {
    Set<Digest> all = new LinkedHashSet<>();
    new TreeWalker(source).walk(root, new TreeWalker.Visitor() {
      @Override
      public void directory(String path, Digest digest, Directory directory) {
        all.add(digest);
      }

      @Override
      public void file(String path, FileNode file) {
        all.add(Digest.fromProto(file.getDigest()));
      }
    });
    long bytes = 0;
    for (Digest d : all) {
      bytes += d.sizeBytes();
    }
    List<Digest> pending = new ArrayList<>(all);
    int missing = 0;
    long missingBytes = 0;
    for (int from = 0; from < pending.size(); from += BATCH) {
      List<Digest> batch = pending.subList(from, Math.min(pending.size(), from + BATCH));
      for (Digest d : target.findMissing(batch)) {
        try (InputStream in = source.openRead(d, 0)) {
          target.put(d, in);
        }
        missing++;
        missingBytes += d.sizeBytes();
      }
    }
    return new Result(all.size(), bytes, missing, missingBytes);
  }
}
