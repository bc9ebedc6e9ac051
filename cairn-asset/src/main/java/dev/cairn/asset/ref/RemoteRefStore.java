package dev.cairn.asset.ref;

import dev.cairn.asset.grpc.GrpcAssetClient;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.ref.RefStore;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;

/**
 * Refs kept on a server, through its Remote Asset service: {@code set} is a PushDirectory of
 * {@code urn:cairn:ref:NAME}, {@code get} a FetchDirectory of it (NOT_FOUND reads as absent). The
 * tree must already be on the server. Thread-safe as the client is.
 */
public final class RemoteRefStore implements RefStore, AutoCloseable {
  private final GrpcAssetClient client;
  private final DigestFunction function;

  public RemoteRefStore(GrpcAssetClient client, DigestFunction function) {
    this.client = Objects.requireNonNull(client, "client");
    this.function = Objects.requireNonNull(function, "function");
  }

  /** Connects to {@code grpc://HOST:PORT[/INSTANCE]}. */
  public static RemoteRefStore connect(String url, DigestFunction function) {
    return new RemoteRefStore(GrpcAssetClient.connect(url), function);
  }

  @Override
  public Optional<Digest> get(String name) throws IOException {
    return client.fetchDirectory(RefStore.uri(name), function);
  }

  @Override
  public void set(String name, Digest root) throws IOException {
    client.pushDirectory(RefStore.uri(name), root, function, Optional.empty());
  }

  @Override
  public void close() {
    client.close();
  }
}
