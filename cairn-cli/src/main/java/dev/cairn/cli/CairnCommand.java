package dev.cairn.cli;

import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The top-level {@code cairn} command: holds the global options every subcommand inherits (they
 * may be written before or after the subcommand name) and opens the store they describe.
 *
 * <p>Subcommands reach it through {@code @ParentCommand}; it is the one place that knows the
 * default store location and how options become a {@link DiskStoreConfig}.
 */
@Command(
    name = "cairn",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Content-addressed storage for builds.",
      "Stores files and whole directory trees by their digest in a local store, and reads them back."
    },
    footer = {
      "",
      "Exit status: 0 on success, 1 on an error, 2 on a usage error.",
      "Global options may also be given after the subcommand name."
    })
public final class CairnCommand implements Callable<Integer> {

  private final Invocation invocation;

  @Spec private CommandSpec spec;

  @Option(
      names = "--store",
      paramLabel = "DIR",
      scope = ScopeType.INHERIT,
      description = "Store directory (default: $XDG_CACHE_HOME/cairn, else ~/.cache/cairn).")
  private Path store;

  @Option(
      names = "--max-size",
      paramLabel = "SIZE",
      scope = ScopeType.INHERIT,
      converter = ByteSize.Converter.class,
      description = {
        "Store size limit, e.g. 500M, 10G, 1.5GiB (binary multiples); remembered by the store.",
        "Default: the limit saved by an earlier --max-size, else 10 GiB."
      })
  private Long maxSize;

  @Option(
      names = "--remote",
      paramLabel = "URL",
      scope = ScopeType.INHERIT,
      description = {
        "Work against a Cairn server instead of the local store: grpc://HOST:PORT[/INSTANCE]",
        "(put, cat, import, export, ls, tree, edit, diff, fetch, ref; mount fetches from it)."
      })
  private String remote;

  /** Kept as text until used: loading the enum at startup would pull in protobuf. */
  private String digestFunction;

  public CairnCommand(Invocation invocation) {
    this.invocation = Objects.requireNonNull(invocation, "invocation");
  }

  /** {@code cairn} without a subcommand is a usage error (exit 2) that points to --help. */
  @Override
  public Integer call() {
    throw new ParameterException(spec.commandLine(), "missing subcommand");
  }

  @Option(
      names = "--digest-function",
      paramLabel = "NAME",
      scope = ScopeType.INHERIT,
      description = "Hash function for digests: sha256 (default) or blake3.")
  void digestFunction(String name) {
    String n = name.toLowerCase(java.util.Locale.ROOT).replace("-", "");
    if (!n.equals("sha256") && !n.equals("blake3")) {
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--digest-function': unknown digest function '" + name
              + "': expected sha256 or blake3");
    }
    this.digestFunction = n;
  }

  Invocation invocation() {
    return invocation;
  }

  /** {@code --store} if given. */
  java.util.Optional<Path> explicitStore() {
    return java.util.Optional.ofNullable(store);
  }

  /** The store directory the options name, or the XDG default. */
  Path storePath() {
    if (store != null) {
      return invocation.resolve(store);
    }
    String cache = invocation.env().get("XDG_CACHE_HOME");
    if (cache != null && !cache.isEmpty() && Path.of(cache).isAbsolute()) {
      return Path.of(cache, "cairn");
    }
    String home = invocation.env().getOrDefault("HOME", System.getProperty("user.home"));
    return Path.of(home, ".cache", "cairn");
  }

  /**
   * Where daemons (a mount's, the store service) log: {@code $XDG_STATE_HOME/cairn} if that is
   * absolute, else {@code ~/.local/state/cairn}; created if missing.
   */
  Path stateDirectory() throws java.io.IOException {
    String state = invocation.env().get("XDG_STATE_HOME");
    Path dir = state != null && Path.of(state).isAbsolute()
        ? Path.of(state, "cairn")
        : Path.of(invocation.env().getOrDefault("HOME", System.getProperty("user.home")),
            ".local", "state", "cairn");
    java.nio.file.Files.createDirectories(dir);
    return dir;
  }

  DigestFunction digestFunction() {
    return digestFunction == null ? DigestFunction.SHA256 : DigestFunction.parse(digestFunction);
  }

  /** {@code --remote} if given. */
  java.util.Optional<String> remote() {
    return java.util.Optional.ofNullable(remote);
  }

  /** {@code --max-size} if given. */
  OptionalLong maxSize() {
    return maxSize == null ? OptionalLong.empty() : OptionalLong.of(maxSize);
  }

  /**
   * The store commands read and write: the server named by {@code --remote}, else the local one
   * (the store service's, when one runs this command: closing it leaves it open).
   */
  dev.cairn.core.blob.BlobStore openBlobStore() throws IOException {
    if (remote == null) {
      java.util.Optional<StoreService.Client> service = invocation.storeService();
      if (service.isPresent()) {
        return new dev.cairn.core.blob.ForwardingBlobStore(service.get().store()) {
          @Override
          public void close() {
            // the service's store: it closes it when it exits
          }
        };
      }
      return openStore();
    }
    try {
      return dev.cairn.grpc.GrpcBlobStore.connect(remote, digestFunction());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--remote': " + e.getMessage());
    }
  }

  /** Connects to the server {@code --remote} names; a malformed URL is a usage error. */
  dev.cairn.core.blob.BlobStore connectRemote(String url) {
    try {
      return dev.cairn.grpc.GrpcBlobStore.connect(url, digestFunction());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "Invalid value for option '--remote': " + e.getMessage());
    }
  }

  /** The global options a store service must share to run this command. */
  StoreService.Options serviceOptions() {
    return new StoreService.Options(storePath().toAbsolutePath().normalize(), maxSize(),
        digestFunction());
  }

  /**
   * When a store service runs this command for a client and cannot (the command names another
   * store or other global options): declines it, so the client runs it, and returns true.
   */
  boolean declinedByService() {
    java.util.Optional<StoreService.Client> service = invocation.storeService();
    if (service.isEmpty()) {
      return false;
    }
    java.util.Optional<String> why = serviceOptions().mismatch(service.get().service().options());
    why.ifPresent(service.get()::decline);
    return why.isPresent();
  }

  /** Rejects {@code --remote} for commands that only make sense on the local store. */
  void requireLocal(String command) {
    if (remote != null) {
      throw new ParameterException(spec.commandLine(),
          "'cairn " + command + "' works on the local store only; drop --remote");
    }
  }

  /** Opens the store; {@code --max-size}, if given, becomes its saved limit. */
  DiskBlobStore openStore() throws IOException {
    return openStore(maxSize());
  }

  /**
   * Opens the store with the given limit; empty keeps the saved one. Writes are not fsynced: the
   * store is a cache that drops a blob truncated by a power cut rather than serve it, and an fsync
   * per file would make importing a large tree many times slower.
   */
  DiskBlobStore openStore(OptionalLong limit) throws IOException {
    if (limit.isPresent() && limit.getAsLong() <= 0) {
      throw new ParameterException(spec.commandLine(),
          "Invalid value for option '--max-size': a store limit must be positive"
              + " (to empty the store, run 'cairn gc --max-size 0')");
    }
    return DiskBlobStore.open(new DiskStoreConfig(storePath(), limit, digestFunction(), false));
  }
}
