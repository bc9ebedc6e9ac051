package dev.cairn.grpc;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.Compressor;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import com.github.luben.zstd.ZstdInputStream;
import com.google.protobuf.ByteString;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleCodec;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The REAPI CAS: presence checks (which refresh what they find), batch reads and writes of small
 * blobs with a per-blob status, and whole-tree listing in pages. Every digest a client sends is
 * validated; a bad one fails the request, naming it, except in batch updates where it fails only
 * that blob.
 */
public final class ContentAddressableStorageService
    extends ContentAddressableStorageGrpc.ContentAddressableStorageImplBase {
  static final int DEFAULT_TREE_PAGE = 1000;
  static final int MAX_TREE_PAGE = 10_000;

  private final Backends backends;
  private final long maxBatchTotalSizeBytes;

  public ContentAddressableStorageService(Backends backends, long maxBatchTotalSizeBytes) {
    this.backends = backends;
    this.maxBatchTotalSizeBytes = maxBatchTotalSizeBytes;
  }

  @Override
  public void findMissingBlobs(FindMissingBlobsRequest request, StreamObserver<FindMissingBlobsResponse> response) {
    try {
      BlobStore cas = backends.cas(request.getDigestFunction());
      response.onNext(FindMissingBlobsResponse.newBuilder()
          .addAllMissingBlobDigests(cas.findMissingWire(request.getBlobDigestsList()))
          .build());
      response.onCompleted();
    } catch (Exception e) {
      response.onError(GrpcErrors.toException(e));
    }
  }

  @Override
  public void batchUpdateBlobs(BatchUpdateBlobsRequest request, StreamObserver<BatchUpdateBlobsResponse> response) {
    try {
      BlobStore cas = backends.cas(request.getDigestFunction());
      long total = 0;
      for (var r : request.getRequestsList()) {
        total += r.getData().size();
      }
      if (total > maxBatchTotalSizeBytes) {
        throw new IllegalArgumentException("batch of " + total + " bytes exceeds the limit of "
            + maxBatchTotalSizeBytes + " bytes; use ByteStream for large blobs");
      }
      BatchUpdateBlobsResponse.Builder b = BatchUpdateBlobsResponse.newBuilder();
      for (var r : request.getRequestsList()) {
        BatchUpdateBlobsResponse.Response.Builder one =
            BatchUpdateBlobsResponse.Response.newBuilder().setDigest(r.getDigest());
        try {
          Digest digest = Digest.fromProto(r.getDigest());
          try (InputStream data = decode(r.getCompressor(), r.getData(), digest)) {
            cas.put(digest, data);
          }
          one.setStatus(GrpcErrors.OK);
        } catch (Exception e) {
          one.setStatus(GrpcErrors.toRpcStatus(e));
        }
        b.addResponses(one);
      }
      response.onNext(b.build());
      response.onCompleted();
    } catch (Exception e) {
      response.onError(GrpcErrors.toException(e));
    }
  }

  private static InputStream decode(Compressor.Value compressor, ByteString data, Digest digest)
      throws IOException {
    return switch (compressor) {
      case IDENTITY -> data.newInput();
      case ZSTD -> new ZstdInputStream(data.newInput());
      default -> throw new IllegalArgumentException("unsupported compressor " + compressor);
    };
  }

  @Override
  public void batchReadBlobs(BatchReadBlobsRequest request, StreamObserver<BatchReadBlobsResponse> response) {
    try {
      BlobStore cas = backends.cas(request.getDigestFunction());
      long total = 0;
      List<Digest> digests = new ArrayList<>();
      for (var d : request.getDigestsList()) {
        Digest digest = Digest.fromProto(d);
        digests.add(digest);
        total += digest.sizeBytes();
      }
      if (total > maxBatchTotalSizeBytes) {
        throw new IllegalArgumentException("batch read of " + total + " bytes exceeds the limit of "
            + maxBatchTotalSizeBytes + " bytes; use ByteStream for large blobs");
      }
      BatchReadBlobsResponse.Builder b = BatchReadBlobsResponse.newBuilder();
      for (Digest digest : digests) {
        BatchReadBlobsResponse.Response.Builder one =
            BatchReadBlobsResponse.Response.newBuilder().setDigest(digest.toProto());
        try {
          one.setData(ByteString.copyFrom(cas.get(digest))).setStatus(GrpcErrors.OK);
        } catch (Exception e) {
          one.setStatus(GrpcErrors.toRpcStatus(e));
        }
        b.addResponses(one);
      }
      response.onNext(b.build());
      response.onCompleted();
    } catch (Exception e) {
      response.onError(GrpcErrors.toException(e));
    }
  }

  /**
   * Streams every Directory below the root, breadth first, each distinct one once. The page
   * token is the number of directories already returned, so paging needs no server state.
   */
  @Override
  public void getTree(GetTreeRequest request, StreamObserver<GetTreeResponse> response) {
    try {
      BlobStore cas = backends.cas(request.getDigestFunction());
      Digest root = Digest.fromProto(request.getRootDigest());
      int pageSize = request.getPageSize() <= 0 ? DEFAULT_TREE_PAGE
          : Math.min(request.getPageSize(), MAX_TREE_PAGE);
      long skip = 0;
      if (!request.getPageToken().isEmpty()) {
        try {
          skip = Long.parseLong(request.getPageToken());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("invalid page token '" + request.getPageToken() + "'");
        }
        if (skip < 0) {
          throw new IllegalArgumentException("invalid page token '" + request.getPageToken() + "'");
        }
      }
      ArrayDeque<Digest> queue = new ArrayDeque<>();
      Set<Digest> seen = new HashSet<>();
      queue.add(root);
      seen.add(root);
      long index = 0;
      GetTreeResponse.Builder page = GetTreeResponse.newBuilder();
      while (!queue.isEmpty()) {
        Digest d = queue.poll();
        Directory dir;
        try {
          dir = MerkleCodec.parse(cas.get(d), "directory " + d);
        } catch (dev.cairn.core.blob.BlobNotFoundException e) {
          if (d.equals(root)) {
            throw e;
          }
          continue; // REAPI: missing subtrees are omitted
        }
        for (DirectoryNode child : dir.getDirectoriesList()) {
          Digest c = Digest.fromProto(child.getDigest());
          if (seen.add(c)) {
            queue.add(c);
          }
        }
        if (index++ < skip) {
          continue;
        }
        page.addDirectories(dir);
        if (page.getDirectoriesCount() == pageSize && !queue.isEmpty()) {
          page.setNextPageToken(Long.toString(index));
          break;
        }
      }
      response.onNext(page.build());
      response.onCompleted();
    } catch (Exception e) {
      response.onError(GrpcErrors.toException(e));
    }
  }


}
