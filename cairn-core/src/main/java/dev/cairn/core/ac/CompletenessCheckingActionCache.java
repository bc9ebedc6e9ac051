package dev.cairn.core.ac;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import dev.cairn.core.blob.BlobNotFoundException;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Answers an action-cache lookup only if every blob the result refers to is still in the CAS,
 * and refreshes those blobs (through {@link BlobStore#findMissing}) so they are not evicted right
 * after the client was told they exist. A result whose outputs were evicted is a miss, so a
 * build never fails on a "missing digest": it re-runs the action instead.
 *
 * <p>Values that are not an {@code ActionResult} referring to at least one blob (ccache's own
 * records) are passed through unchecked.
 */
public final class CompletenessCheckingActionCache implements ActionCache {
  private final ActionCache delegate;
  private final BlobStore cas;

  public CompletenessCheckingActionCache(ActionCache delegate, BlobStore cas) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.cas = Objects.requireNonNull(cas, "cas");
  }

  @Override
  public Optional<byte[]> get(ActionKey key) throws IOException {
    Optional<byte[]> value = delegate.get(key);
    if (value.isEmpty()) {
      return value;
    }
    Optional<List<Digest>> referenced = referencedBlobs(value.get());
    if (referenced.isEmpty()) {
      return value;
    }
    if (!cas.findMissing(referenced.get()).isEmpty()) {
      return Optional.empty();
    }
    // Output directories are Tree messages: the files inside them must be present too.
    List<Digest> inTrees = new ArrayList<>();
    for (OutputDirectory d : ActionResult.parseFrom(value.get()).getOutputDirectoriesList()) {
      if (d.hasTreeDigest()) {
        Tree tree;
        try {
          tree = Tree.parseFrom(cas.get(Digest.fromProto(d.getTreeDigest())));
        } catch (InvalidProtocolBufferException | BlobNotFoundException e) {
          return Optional.empty();
        }
        boolean valid = addFiles(tree.getRoot(), inTrees);
        for (Directory child : tree.getChildrenList()) {
          valid &= addFiles(child, inTrees);
        }
        if (!valid) {
          return Optional.empty();
        }
      }
    }
    if (!inTrees.isEmpty() && !cas.findMissing(inTrees).isEmpty()) {
      return Optional.empty();
    }
    return value;
  }

  /** Adds the file digests of a directory; false if one is invalid (it can never be present). */
  private static boolean addFiles(Directory directory, List<Digest> into) {
    for (FileNode f : directory.getFilesList()) {
      try {
        into.add(Digest.fromProto(f.getDigest()));
      } catch (IllegalArgumentException e) {
        return false;
      }
    }
    return true;
  }

  @Override
  public void put(ActionKey key, byte[] value) throws IOException {
    delegate.put(key, value);
  }

  /**
   * The blobs an ActionResult refers to (outputs, stdout/stderr, output trees); empty if the
   * bytes are not a plausible ActionResult with at least one valid reference.
   */
  public static Optional<List<Digest>> referencedBlobs(byte[] value) {
    ActionResult result;
    try {
      result = ActionResult.parseFrom(value);
    } catch (InvalidProtocolBufferException e) {
      return Optional.empty();
    }
    if (!result.getUnknownFields().asMap().isEmpty()) {
      return Optional.empty();
    }
    List<build.bazel.remote.execution.v2.Digest> protos = new ArrayList<>();
    for (OutputFile f : result.getOutputFilesList()) {
      protos.add(f.getDigest());
    }
    for (OutputDirectory d : result.getOutputDirectoriesList()) {
      if (d.hasTreeDigest()) {
        protos.add(d.getTreeDigest());
      }
      if (d.hasRootDirectoryDigest()) {
        protos.add(d.getRootDirectoryDigest());
      }
    }
    if (result.hasStdoutDigest()) {
      protos.add(result.getStdoutDigest());
    }
    if (result.hasStderrDigest()) {
      protos.add(result.getStderrDigest());
    }
    List<Digest> digests = new ArrayList<>(protos.size());
    try {
      for (var p : protos) {
        digests.add(Digest.fromProto(p));
      }
    } catch (IllegalArgumentException e) {
      return Optional.empty();
    }
    return digests.isEmpty() ? Optional.empty() : Optional.of(digests);
  }
}
