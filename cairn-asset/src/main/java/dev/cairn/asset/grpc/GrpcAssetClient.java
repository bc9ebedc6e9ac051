package dev.cairn.asset.grpc;

import build.bazel.remote.asset.v1.FetchBlobRequest;
import build.bazel.remote.asset.v1.FetchBlobResponse;
import build.bazel.remote.asset.v1.FetchDirectoryRequest;
import build.bazel.remote.asset.v1.FetchDirectoryResponse;
import build.bazel.remote.asset.v1.FetchGrpc;
import build.bazel.remote.asset.v1.PushDirectoryRequest;
import build.bazel.remote.asset.v1.PushGrpc;
import com.google.rpc.Code;
import dev.cairn.asset.AssetKey.Kind;
import dev.cairn.asset.FetchException;
import dev.cairn.asset.FetchException.Reason;
import dev.cairn.asset.FetchRequest;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A client of a server's Remote Asset service ({@code grpc://host:port[/instance]}): what {@code
 * cairn fetch --remote} and the remote ref store use. Origin failures reported inline become
 * {@link FetchException}s with the same reason; call failures stay {@link StatusRuntimeException}s.
 */
public final class GrpcAssetClient implements AutoCloseable {
  private final ManagedChannel channel;
  private final String instance;
  private final FetchGrpc.FetchBlockingStub fetch;
  private final PushGrpc.PushBlockingStub push;

  public GrpcAssetClient(ManagedChannel channel, String instance) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.instance = Objects.requireNonNull(instance, "instance");
    this.fetch = FetchGrpc.newBlockingStub(channel);
    this.push = PushGrpc.newBlockingStub(channel);
  }

  /**
   * Connects to {@code grpc://HOST:PORT[/INSTANCE]} (plaintext); the channel is closed with the client.
   *
   * @throws IllegalArgumentException naming the URL if it is not of that form
   */
  public static GrpcAssetClient connect(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("invalid remote URL '" + url + "': " + e.getMessage());
    }
    if (!"grpc".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() < 0) {
      throw new IllegalArgumentException("invalid remote URL '" + url + "': expected grpc://HOST:PORT[/INSTANCE]");
    }
    String path = uri.getPath() == null ? "" : uri.getPath();
    String instance = path.replaceAll("^/+", "").replaceAll("/+$", "");
    ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress(uri.getHost(), uri.getPort()).usePlaintext().build();
    return new GrpcAssetClient(channel, instance);
  }

  /** The instance name requests carry (the URL's path). */
  public String instance() {
    return instance;
  }

  /** FetchBlob or FetchDirectory (by the request's kind; its instance is replaced by this client's). */
  public Digest fetch(FetchRequest request) throws IOException {
    com.google.rpc.Status status;
    String uri;
    build.bazel.remote.execution.v2.Digest digest;
    if (request.kind() == Kind.BLOB) {
      FetchBlobRequest.Builder b = FetchBlobRequest.newBuilder().setInstanceName(instance)
          .addAllUris(request.uris()).addAllQualifiers(AssetGrpc.toProto(request.qualifiers()))
          .setDigestFunction(request.function().toProto());
      request.timeout().ifPresent(t -> b.setTimeout(duration(t)));
      request.oldestAccepted().ifPresent(o -> b.setOldestContentAccepted(AssetGrpc.toProto(o)));
      FetchBlobResponse r = fetch.fetchBlob(b.build());
      status = r.getStatus();
      uri = r.getUri();
      digest = r.getBlobDigest();
    } else {
      FetchDirectoryRequest.Builder b = FetchDirectoryRequest.newBuilder().setInstanceName(instance)
          .addAllUris(request.uris()).addAllQualifiers(AssetGrpc.toProto(request.qualifiers()))
          .setDigestFunction(request.function().toProto());
      request.timeout().ifPresent(t -> b.setTimeout(duration(t)));
      request.oldestAccepted().ifPresent(o -> b.setOldestContentAccepted(AssetGrpc.toProto(o)));
      FetchDirectoryResponse r = fetch.fetchDirectory(b.build());
      status = r.getStatus();
      uri = r.getUri();
      digest = r.getRootDirectoryDigest();
    }
    if (status.getCode() != Code.OK_VALUE) {
      throw new FetchException(reason(status.getCode()), uri, status.getMessage());
    }
    return Digest.fromProto(digest);
  }

  /** FetchDirectory of exactly {@code uri} with no qualifiers; empty if the server has no such mapping. */
  public Optional<Digest> fetchDirectory(String uri, DigestFunction function) throws IOException {
    try {
      return Optional.of(fetch(FetchRequest.of(Kind.DIRECTORY, function, java.util.List.of(uri),
          dev.cairn.asset.Qualifiers.none())));
    } catch (FetchException e) {
      if (e.reason() == Reason.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == io.grpc.Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  /** PushDirectory of {@code root} under {@code uri}, with no qualifiers and no expiry. */
  public void pushDirectory(String uri, Digest root, DigestFunction function, Optional<Instant> expireAt) {
    PushDirectoryRequest.Builder b = PushDirectoryRequest.newBuilder().setInstanceName(instance)
        .addUris(uri).setRootDirectoryDigest(root.toProto()).setDigestFunction(function.toProto());
    expireAt.ifPresent(e -> b.setExpireAt(AssetGrpc.toProto(e)));
    push.pushDirectory(b.build());
  }

  private static com.google.protobuf.Duration duration(Duration d) {
    return com.google.protobuf.Duration.newBuilder().setSeconds(d.getSeconds()).setNanos(d.getNano()).build();
  }

  private static Reason reason(int code) {
    return switch (Code.forNumber(code)) {
      case NOT_FOUND -> Reason.NOT_FOUND;
      case PERMISSION_DENIED -> Reason.PERMISSION_DENIED;
      case DEADLINE_EXCEEDED -> Reason.DEADLINE_EXCEEDED;
      case ABORTED -> Reason.ABORTED;
      case RESOURCE_EXHAUSTED -> Reason.RESOURCE_EXHAUSTED;
      case null, default -> Reason.UNAVAILABLE;
    };
  }

  @Override
  public void close() {
    channel.shutdownNow();
  }
}
