package dev.cairn.grpc;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * A remote Cairn (or any REAPI cache) as a {@link BlobStore}: small blobs go in batches, large
 * ones through ByteStream with flow control, so that the CLI, a FUSE mount or a peer use a server
 * exactly as they use the local disk. Remote failures become the same checked exceptions a local
 * store throws. Thread-safe.
 */
public final class GrpcBlobStore implements BlobStore {
  /** Blobs up to this size use the batch calls. */
  static final long BATCH_THRESHOLD = 1 << 20;
  private static final int FIND_MISSING_CHUNK = 10_000;
  /** Bytes of blob data per batch request: below the usual 4 MiB limit, with room for framing. */
  static final long BATCH_BYTES = 3L << 20;

  private final ManagedChannel channel;
  private final String instanceName;
  private final DigestFunction function;
  private final String target;
  private final ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;
  private final ByteStreamGrpc.ByteStreamBlockingStub byteStream;
  private final ByteStreamGrpc.ByteStreamStub byteStreamAsync;

  public GrpcBlobStore(ManagedChannel channel, String instanceName, DigestFunction function) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.instanceName = Objects.requireNonNull(instanceName, "instanceName");
    this.function = Objects.requireNonNull(function, "function");
    this.target = channel.authority();
    this.cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
    this.byteStream = ByteStreamGrpc.newBlockingStub(channel);
    this.byteStreamAsync = ByteStreamGrpc.newStub(channel);
  }

  /**
   * Connects to {@code grpc://host:port[/instance/name]} (plaintext HTTP/2). The channel is owned
   * by the store and shut down by {@link #close()}.
   *
   * @throws IllegalArgumentException naming the URL if it is not of that form
   */
  public static GrpcBlobStore connect(String url, DigestFunction function) {
    java.net.URI uri;
    try {
      uri = new java.net.URI(url);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException("invalid remote URL '" + url + "': " + e.getMessage());
    }
    if ("grpcs".equals(uri.getScheme())) {
      throw new IllegalArgumentException("remote URL '" + url + "': TLS (grpcs://) is not supported yet; use grpc://");
    }
    if (!"grpc".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("invalid remote URL '" + url + "': expected grpc://HOST:PORT[/INSTANCE]");
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    String instance = path.replaceAll("^/+", "").replaceAll("/+$", "");
    ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress(uri.getHost(), uri.getPort())
        .usePlaintext()
        .maxInboundMessageSize(64 << 20)
        .build();
    return new GrpcBlobStore(channel, instance, function);
  }

  @Override
  public DigestFunction digestFunction() {
    return function;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    Set<Digest> missing = new LinkedHashSet<>();
    List<Digest> all = new ArrayList<>(digests);
    for (int i = 0; i < all.size(); i += FIND_MISSING_CHUNK) {
      FindMissingBlobsRequest.Builder req = FindMissingBlobsRequest.newBuilder()
          .setInstanceName(instanceName).setDigestFunction(function.toProto());
      for (Digest d : all.subList(i, Math.min(all.size(), i + FIND_MISSING_CHUNK))) {
        req.addBlobDigests(d.toProto());
      }
      try {
        for (var d : cas.findMissingBlobs(req.build()).getMissingBlobDigestsList()) {
          missing.add(Digest.fromProto(d));
        }
      } catch (StatusRuntimeException e) {
        throw translate(e, null);
      }
    }
    return missing;
  }

  @Override
  public byte[] get(Digest digest) throws IOException {
    if (digest.sizeBytes() > BATCH_THRESHOLD) {
      return BlobStore.super.get(digest);
    }
    BatchReadBlobsResponse response;
    try {
      response = cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder()
          .setInstanceName(instanceName).setDigestFunction(function.toProto())
          .addDigests(digest.toProto()).build());
    } catch (StatusRuntimeException e) {
      throw translate(e, digest);
    }
    BatchReadBlobsResponse.Response one = response.getResponses(0);
    if (one.getStatus().getCode() != 0) {
      throw translate(Status.fromCodeValue(one.getStatus().getCode())
          .withDescription(one.getStatus().getMessage()).asRuntimeException(), digest);
    }
    byte[] bytes = one.getData().toByteArray();
    if (bytes.length != digest.sizeBytes()) {
      throw DigestMismatchException.sizeDiffers(digest, bytes.length);
    }
    return bytes;
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    if (offset < 0 || offset > digest.sizeBytes()) {
      throw new IllegalArgumentException("read offset " + offset + " is outside blob " + digest);
    }
    Context.CancellableContext context = Context.current().withCancellation();
    Context previous = context.attach();
    Iterator<ReadResponse> responses;
    try {
      responses = byteStream.read(ReadRequest.newBuilder()
          .setResourceName(readResource(digest)).setReadOffset(offset).build());
    } finally {
      context.detach(previous);
    }
    ResponseStream in = new ResponseStream(responses, context, digest);
    in.prime(); // surface NOT_FOUND and friends now, not at the first read
    return in;
  }

  private String readResource(Digest digest) {
    String fn = function == DigestFunction.SHA256 ? "" : function.cliName() + "/";
    return (instanceName.isEmpty() ? "" : instanceName + "/") + "blobs/" + fn + digest.hash() + "/"
        + digest.sizeBytes();
  }

  private String writeResource(Digest digest) {
    String fn = function == DigestFunction.SHA256 ? "" : function.cliName() + "/";
    return (instanceName.isEmpty() ? "" : instanceName + "/") + "uploads/" + UUID.randomUUID()
        + "/blobs/" + fn + digest.hash() + "/" + digest.sizeBytes();
  }

  /** The ByteStream Read responses as an InputStream; closing it cancels the call. */
  private final class ResponseStream extends InputStream {
    private final Iterator<ReadResponse> responses;
    private final Context.CancellableContext context;
    private final Digest digest;
    private ByteString current = ByteString.EMPTY;
    private int pos;
    private boolean ended;

    ResponseStream(Iterator<ReadResponse> responses, Context.CancellableContext context, Digest digest) {
      this.responses = responses;
      this.context = context;
      this.digest = digest;
    }

    void prime() throws IOException {
      try {
        if (!advance()) {
          ended = true;
        }
      } catch (IOException e) {
        close();
        throw e;
      }
    }

    private boolean advance() throws IOException {
      try {
        while (responses.hasNext()) {
          ByteString data = responses.next().getData();
          if (!data.isEmpty()) {
            current = data;
            pos = 0;
            return true;
          }
        }
        return false;
      } catch (StatusRuntimeException e) {
        throw translate(e, digest);
      }
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      while (pos == current.size()) {
        if (ended || !advance()) {
          ended = true;
          return -1;
        }
      }
      int n = Math.min(len, current.size() - pos);
      current.copyTo(b, pos, off, n);
      pos += n;
      return n;
    }

    @Override
    public void close() {
      context.cancel(null);
    }
  }

  @Override
  public void put(Digest digest, InputStream data) throws IOException {
    if (digest.sizeBytes() <= BATCH_THRESHOLD) {
      byte[] bytes = data.readNBytes((int) digest.sizeBytes() + 1);
      putBatch(digest, bytes);
      return;
    }
    putStream(digest, data);
  }

  /** Sends the blobs in BatchUpdateBlobs requests of up to {@link #BATCH_BYTES} each. */
  @Override
  public void putAll(java.util.Map<Digest, byte[]> blobs) throws IOException {
    BatchUpdateBlobsRequest.Builder req = null;
    long bytes = 0;
    for (var e : blobs.entrySet()) {
      if (e.getValue().length > BATCH_THRESHOLD) {
        put(e.getKey(), e.getValue());
        continue;
      }
      if (req != null && bytes + e.getValue().length > BATCH_BYTES) {
        sendBatch(req.build());
        req = null;
      }
      if (req == null) {
        req = BatchUpdateBlobsRequest.newBuilder()
            .setInstanceName(instanceName).setDigestFunction(function.toProto());
        bytes = 0;
      }
      req.addRequests(BatchUpdateBlobsRequest.Request.newBuilder()
          .setDigest(e.getKey().toProto()).setData(ByteString.copyFrom(e.getValue())));
      bytes += e.getValue().length;
    }
    if (req != null) {
      sendBatch(req.build());
    }
  }

  private void sendBatch(BatchUpdateBlobsRequest request) throws IOException {
    BatchUpdateBlobsResponse response;
    try {
      response = cas.batchUpdateBlobs(request);
    } catch (StatusRuntimeException e) {
      throw translate(e, null);
    }
    for (var one : response.getResponsesList()) {
      if (one.getStatus().getCode() != 0) {
        throw translate(Status.fromCodeValue(one.getStatus().getCode())
            .withDescription(one.getStatus().getMessage()).asRuntimeException(),
            Digest.fromProto(one.getDigest()));
      }
    }
  }

  private void putBatch(Digest digest, byte[] bytes) throws IOException {
    BatchUpdateBlobsResponse response;
    try {
      response = cas.batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
          .setInstanceName(instanceName).setDigestFunction(function.toProto())
          .addRequests(BatchUpdateBlobsRequest.Request.newBuilder()
              .setDigest(digest.toProto()).setData(ByteString.copyFrom(bytes)))
          .build());
    } catch (StatusRuntimeException e) {
      throw translate(e, digest);
    }
    var status = response.getResponses(0).getStatus();
    if (status.getCode() != 0) {
      throw translate(Status.fromCodeValue(status.getCode()).withDescription(status.getMessage())
          .asRuntimeException(), digest);
    }
  }

  private void putStream(Digest digest, InputStream data) throws IOException {
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    Object ready = new Object();
    ClientCallStreamObserver<WriteRequest>[] requests = new ClientCallStreamObserver[1];
    byteStreamAsync.write(new ClientResponseObserver<WriteRequest, WriteResponse>() {
      @Override
      public void beforeStart(ClientCallStreamObserver<WriteRequest> stream) {
        requests[0] = stream;
        stream.setOnReadyHandler(() -> {
          synchronized (ready) {
            ready.notifyAll();
          }
        });
      }

      @Override
      public void onNext(WriteResponse value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
        synchronized (ready) {
          ready.notifyAll();
        }
      }

      @Override
      public void onCompleted() {
        result.complete(WriteResponse.getDefaultInstance());
        synchronized (ready) {
          ready.notifyAll();
        }
      }
    });
    ClientCallStreamObserver<WriteRequest> stream = requests[0];
    String resource = writeResource(digest);
    long offset = 0;
    byte[] buffer = new byte[ByteStreamService.CHUNK];
    try {
      while (!result.isDone()) {
        int n = data.readNBytes(buffer, 0, buffer.length);
        boolean last = n < buffer.length;
        if (!last && offset + n >= digest.sizeBytes()) {
          // At the announced end: anything more is a size lie, caught before it is sent.
          if (data.read() >= 0) {
            throw DigestMismatchException.sizeDiffers(digest, offset + n + 1);
          }
          last = true;
        }
        synchronized (ready) {
          while (!stream.isReady() && !result.isDone()) {
            ready.wait(100);
          }
        }
        if (result.isDone()) {
          break; // the server answered early: the blob exists, or the upload failed
        }
        WriteRequest.Builder req = WriteRequest.newBuilder()
            .setWriteOffset(offset).setData(ByteString.copyFrom(buffer, 0, n)).setFinishWrite(last);
        if (offset == 0) {
          req.setResourceName(resource);
        }
        stream.onNext(req.build());
        offset += n;
        if (last) {
          stream.onCompleted();
          break;
        }
      }
    } catch (IOException | RuntimeException e) {
      stream.cancel("client input failed: " + e.getMessage(), e);
      throw e;
    } catch (InterruptedException e) {
      stream.cancel("interrupted", e);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while uploading " + digest);
    }
    try {
      result.get();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw translate(s, digest);
      }
      throw new IOException("upload of " + digest + " to " + target + " failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while uploading " + digest);
    }
  }

  private IOException translate(StatusRuntimeException e, Digest digest) {
    Status s = e.getStatus();
    String description = s.getDescription() == null ? s.getCode().toString() : s.getDescription();
    return switch (s.getCode()) {
      case NOT_FOUND -> digest != null
          ? new BlobNotFoundException(digest, "remote " + target)
          : new IOException("remote " + target + ": " + description, e);
      case INVALID_ARGUMENT -> digest != null && description.contains("digest mismatch")
          ? new DigestMismatchException(digest, "remote " + target + ": " + description)
          : new IOException("remote " + target + " rejected the request: " + description, e);
      case OUT_OF_RANGE -> throw new IllegalArgumentException(description, e);
      case RESOURCE_EXHAUSTED -> new StoreFullException("remote " + target + ": " + description, e);
      case UNAVAILABLE -> new IOException("remote " + target + " is unavailable: " + description, e);
      default -> new IOException("remote " + target + ": " + s.getCode() + ": " + description, e);
    };
  }

  @Override
  public void close() {
    channel.shutdown();
  }
}
