package dev.cairn.cli;

import dev.cairn.server.CairnServer;
import dev.cairn.server.ServerConfig;
import dev.cairn.server.StoreConfig;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cairn serve}: the cache server. Options come from the command line, else from
 * {@code --config FILE} (a properties file whose keys are the long option names without dashes),
 * else from defaults; it listens on loopback unless told otherwise, and on SIGTERM or SIGINT
 * lets in-flight requests finish before it exits.
 */
@Command(
    name = "serve",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Run the cache server (REAPI v2 over gRPC, HTTP cache protocol, Remote Asset).",
      "gRPC: Capabilities, CAS, ByteStream, ActionCache, Remote Asset Fetch/Push.",
      "HTTP: GET/HEAD/PUT /cas/<sha256> and",
      "/ac/<sha256> under any prefix, /metrics (Prometheus), /healthz. Both serve --store.",
      "",
      "Bazel:  bazel build --remote_cache=grpc://127.0.0.1:8980 //...",
      "        bazel build --remote_cache=http://127.0.0.1:8080 //...",
      "ccache: CCACHE_REMOTE_STORAGE='http://127.0.0.1:8080/ccache|layout=bazel'",
      "Bazel downloads through Cairn: --experimental_remote_downloader=grpc://127.0.0.1:8980",
      "        (with --remote_cache=grpc://127.0.0.1:8980).",
      "",
      "Stops cleanly on SIGTERM or Ctrl-C: in-flight requests finish first."
    },
    footer = {
      "",
      "Config file (--config FILE): Java properties, one key per option, for example",
      "  store = /var/cache/cairn",
      "  max-size = 200G",
      "  grpc-listen = 0.0.0.0:8980",
      "Command-line options override the file."
    })
final class ServeCommand implements Callable<Integer> {

  static final Set<String> CONFIG_KEYS = Set.of(
      "store", "max-size", "grpc-listen", "http-listen", "fsync", "max-batch-size",
      "upload-expiry", "shutdown-grace", "asset-allow-private", "asset-max-download-size",
      "asset-index-max-entries", "asset-fetch-timeout", "http-open-files");

  @ParentCommand private CairnCommand cairn;
  @Spec private CommandSpec spec;

  @Option(names = "--grpc-listen", paramLabel = "HOST:PORT",
      description = "gRPC address (default 127.0.0.1:8980; 0.0.0.0:8980 for every interface).")
  private String grpcListen;

  @Option(names = "--http-listen", paramLabel = "HOST:PORT",
      description = "HTTP cache-protocol address (default 127.0.0.1:8080).")
  private String httpListen;

  @Option(names = "--config", paramLabel = "FILE", description = "Read options from a properties file.")
  private Path configFile;

  @Option(names = "--fsync", description = "Flush every blob to the device before it is visible.")
  private Boolean fsync;

  @Option(names = "--max-batch-size", paramLabel = "SIZE", converter = ByteSize.Converter.class,
      description = "Largest batch request, as announced to clients (default 4M). A request "
          + "message may be this plus 1M, and at least 16M (a FindMissingBlobs of ~230,000 digests).")
  private Long maxBatchSize;

  @Option(names = "--upload-expiry", paramLabel = "DURATION",
      description = "How long an interrupted upload stays resumable, e.g. 1h, 30m (default 1h).")
  private String uploadExpiry;

  @Option(names = "--shutdown-grace", paramLabel = "DURATION",
      description = "How long in-flight requests may run at shutdown (default 30s).")
  private String shutdownGrace;

  @Option(names = "--asset-allow-private", arity = "0..1", fallbackValue = "true", paramLabel = "true|false",
      description = "Let the Remote Asset service fetch from loopback, private, link-local and CGNAT"
          + " addresses (refused by default, also after redirects; cloud metadata addresses stay refused).")
  private Boolean assetAllowPrivate;

  @Option(names = "--asset-max-download-size", paramLabel = "SIZE", converter = ByteSize.Converter.class,
      description = "Largest download the Remote Asset service takes from an origin: an HTTP "
          + "body, or the pack of one git fetch (default 8G).")
  private Long assetMaxDownloadSize;

  @Option(names = "--asset-index-max-entries", paramLabel = "N",
      description = "Bound of the asset index (URI -> digest mappings); least recently used"
          + " dropped beyond it (default 100000).")
  private Long assetIndexMaxEntries;

  @Option(names = "--http-open-files", paramLabel = "N",
      description = "How many small blobs' files the HTTP cache keeps open between GET hits"
          + " (default 4096, at most 1048576, and never more than a quarter of the process's file"
          + " descriptor limit; 0 for none). Each costs one descriptor; a file is closed when its"
          + " blob is evicted.")
  private Integer httpOpenFiles;

  @Option(names = "--asset-fetch-timeout", paramLabel = "DURATION",
      description = "Fetch timeout when a request gives none, e.g. 10m (default 10m).")
  private String assetFetchTimeout;

  @Override
  public Integer call() throws Exception {
    Properties file = loadConfig();
    ServerConfig config = config(file);
    LogFormat.install();
    CairnServer server = CairnServer.start(config);
    CountDownLatch signalled = new CountDownLatch(1);
    AtomicBoolean closed = new AtomicBoolean();
    // SIGTERM and SIGINT: a requested stop, which finishes in-flight requests and exits 0.
    for (String name : List.of("TERM", "INT")) {
      sun.misc.Signal.handle(new sun.misc.Signal(name), s -> signalled.countDown());
    }
    // Any other way out (SIGHUP, System.exit elsewhere) still closes the stores properly.
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(() -> stop(server, closed)));
    signalled.await();
    stop(server, closed);
    return 0;
  }

  private static void stop(CairnServer server, AtomicBoolean closed) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    System.Logger log = System.getLogger("cairn");
    log.log(System.Logger.Level.INFO, "shutting down: finishing in-flight requests");
    try {
      server.close();
      log.log(System.Logger.Level.INFO, "stopped");
    } catch (Exception e) {
      log.log(System.Logger.Level.ERROR, "error while shutting down", e);
    }
  }

  private Properties loadConfig() throws IOException {
    Properties p = new Properties();
    if (configFile == null) {
      return p;
    }
    try (InputStream in = Files.newInputStream(configFile)) {
      p.load(in);
    } catch (NoSuchFileException e) {
      throw new ParameterException(spec.commandLine(), "config file " + configFile + " does not exist");
    }
    for (String key : p.stringPropertyNames()) {
      if (!CONFIG_KEYS.contains(key)) {
        throw new ParameterException(spec.commandLine(), configFile + ": unknown key '" + key
            + "' (known: " + String.join(", ", CONFIG_KEYS.stream().sorted().toList()) + ")");
      }
    }
    return p;
  }

  ServerConfig config(Properties file) {
    Path store = cairn.explicitStore().orElse(
        file.containsKey("store") ? Path.of(file.getProperty("store").trim()) : cairn.storePath());
    OptionalLong maxSize = cairn.maxSize();
    if (maxSize.isEmpty() && file.containsKey("max-size")) {
      maxSize = OptionalLong.of(size("max-size", file.getProperty("max-size")));
    }
    boolean doFsync = fsync != null ? fsync : Boolean.parseBoolean(file.getProperty("fsync", "false").trim());
    DiskStoreConfig disk = new DiskStoreConfig(store, maxSize, dev.cairn.core.digest.DigestFunction.SHA256, doFsync);
    InetSocketAddress grpc = address("grpc-listen", grpcListen, file, ServerConfig.DEFAULT_GRPC);
    InetSocketAddress http = address("http-listen", httpListen, file, ServerConfig.DEFAULT_HTTP);
    long batch = maxBatchSize != null ? maxBatchSize
        : file.containsKey("max-batch-size") ? size("max-batch-size", file.getProperty("max-batch-size")) : 4L << 20;
    ServerConfig defaults = ServerConfig.defaults(new StoreConfig.Disk(disk));
    try {
      return new ServerConfig(new StoreConfig.Disk(disk), grpc, http, batch, defaults.maxUploadBytes(),
          duration("upload-expiry", uploadExpiry, file, defaults.uploadExpiry()),
          duration("shutdown-grace", shutdownGrace, file, defaults.shutdownGrace()),
          assetConfig(file, defaults.asset()),
          httpOpenFiles != null ? httpOpenFiles
              : (int) whole("http-open-files", file, defaults.httpOpenFiles()));
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }

  private dev.cairn.asset.AssetConfig assetConfig(Properties file, dev.cairn.asset.AssetConfig defaults) {
    boolean allowPrivate = assetAllowPrivate != null ? assetAllowPrivate
        : file.containsKey("asset-allow-private") ? bool("asset-allow-private", file.getProperty("asset-allow-private"))
        : defaults.allowPrivate();
    long maxDownload = assetMaxDownloadSize != null ? assetMaxDownloadSize
        : file.containsKey("asset-max-download-size")
            ? size("asset-max-download-size", file.getProperty("asset-max-download-size"))
            : defaults.maxDownloadBytes();
    long maxEntries;
    if (assetIndexMaxEntries != null) {
      maxEntries = assetIndexMaxEntries;
    } else if (file.containsKey("asset-index-max-entries")) {
      try {
        maxEntries = Long.parseLong(file.getProperty("asset-index-max-entries").trim());
      } catch (NumberFormatException e) {
        throw new ParameterException(spec.commandLine(), "invalid asset-index-max-entries '"
            + file.getProperty("asset-index-max-entries") + "': expected a whole number");
      }
    } else {
      maxEntries = defaults.maxIndexEntries();
    }
    java.time.Duration timeout = duration("asset-fetch-timeout", assetFetchTimeout, file, defaults.defaultTimeout());
    return new dev.cairn.asset.AssetConfig(allowPrivate, maxDownload, maxEntries, timeout, defaults.archiveLimits());
  }

  /** A whole number from the config file's {@code key}, else {@code fallback}. */
  private long whole(String key, Properties file, long fallback) {
    String text = file.getProperty(key);
    if (text == null) {
      return fallback;
    }
    try {
      return Integer.parseInt(text.trim());
    } catch (NumberFormatException e) {
      throw new ParameterException(spec.commandLine(), "invalid " + key + " '" + text
          + "': expected a whole number");
    }
  }

  private boolean bool(String key, String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (!t.equals("true") && !t.equals("false")) {
      throw new ParameterException(spec.commandLine(), "invalid " + key + " '" + text + "': expected true or false");
    }
    return t.equals("true");
  }

  private long size(String key, String text) {
    try {
      return ByteSize.parse(text.trim());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "invalid " + key + ": " + e.getMessage());
    }
  }

  private InetSocketAddress address(String key, String option, Properties file, InetSocketAddress fallback) {
    String text = option != null ? option : file.getProperty(key);
    if (text == null) {
      return fallback;
    }
    try {
      return ServerConfig.parseAddress(text);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "invalid --" + key + ": " + e.getMessage());
    }
  }

  private Duration duration(String key, String option, Properties file, Duration fallback) {
    String text = option != null ? option : file.getProperty(key);
    if (text == null) {
      return fallback;
    }
    try {
      return parseDuration(text.trim());
    } catch (IllegalArgumentException | DateTimeParseException e) {
      throw new ParameterException(spec.commandLine(),
          "invalid --" + key + " '" + text + "': expected a duration such as 90s, 30m, 1h or 2d");
    }
  }

  /** Parses {@code 90s}, {@code 30m}, {@code 1h}, {@code 2d}, {@code 500ms} or ISO-8601 ({@code PT1H}). */
  static Duration parseDuration(String text) {
    String t = text.toLowerCase(Locale.ROOT);
    if (t.startsWith("p")) {
      return Duration.parse(text);
    }
    int i = 0;
    while (i < t.length() && Character.isDigit(t.charAt(i))) {
      i++;
    }
    if (i == 0) {
      throw new IllegalArgumentException(text);
    }
    long n = Long.parseLong(t.substring(0, i));
    return switch (t.substring(i)) {
      case "ms" -> Duration.ofMillis(n);
      case "s", "" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException(text);
    };
  }
}
