package dev.cairn.cli;

import dev.cairn.asset.AssetConfig;
import dev.cairn.asset.AssetKey;
import dev.cairn.asset.AssetResolver;
import dev.cairn.asset.FetchRequest;
import dev.cairn.asset.Qualifiers;
import dev.cairn.asset.grpc.GrpcAssetClient;
import dev.cairn.core.digest.Digest;
import dev.cairn.store.disk.DiskBlobStore;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code cairn fetch URL...}: downloads a source into the store once and prints its digest — a
 * file's blob digest, or with {@code --archive} / {@code --git-*} the root digest of the unpacked
 * or checked-out tree. Locally it runs the Remote Asset fetchers against the local store and its
 * asset index (a second fetch of the same URL is answered from the index); with {@code --remote}
 * it asks the server's Fetch service, which downloads server-side.
 */
@Command(
    name = "fetch",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Download a file, archive or git repository into the store once and print its digest.",
      "URLs are mirrors of the same content, tried in order. A URL fetched before (with the same"
          + " options) is answered from the asset index without downloading, as long as its content"
          + " is still in the store. Prints a blob digest, or with --archive, --git-commit or"
          + " --git-branch a tree's root digest (for export, ls, mount). With --remote the server"
          + " downloads it."
    },
    footer = {
      "",
      "Examples:",
      "  cairn fetch https://example.com/src.tar.gz --sri sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=",
      "  cairn fetch --archive https://example.com/src.tar.gz",
      "  cairn fetch --git-commit 1a2b3c... https://github.com/org/repo.git",
      "  cairn --remote grpc://127.0.0.1:8980 fetch https://example.com/src.tar.gz"
    })
final class FetchCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;
  @Spec private CommandSpec spec;

  @Parameters(index = "0..*", arity = "1..*", paramLabel = "URL", description = "http(s) or git URLs (mirrors).")
  private List<String> urls;

  @Option(names = "--sri", paramLabel = "SRI",
      description = "Expected checksum, Subresource Integrity form (sha256-, sha384- or sha512-<base64>).")
  private String sri;

  @Option(names = "--archive", description = "Unpack the download (tar, tar.gz, tar.xz, tar.bz2, tar.zst, zip)"
      + " and print the tree's root digest.")
  private boolean archive;

  @Option(names = "--type", paramLabel = "TYPE",
      description = "Archive type when the name and content do not tell (resource_type), e.g. application/x-tar.")
  private String type;

  @Option(names = "--git-commit", paramLabel = "SHA", description = "Check out this commit of a git URL.")
  private String gitCommit;

  @Option(names = "--git-branch", paramLabel = "NAME", description = "Check out the tip of this branch of a git URL.")
  private String gitBranch;

  @Option(names = "--header", paramLabel = "NAME=VALUE", description = "An HTTP header to send (repeatable).")
  private List<String> headers = new ArrayList<>();

  @Option(names = "--timeout", paramLabel = "DURATION", description = "Give up after this long, e.g. 90s, 10m (default 10m).")
  private String timeout;

  @Option(names = "--allow-private", description = "Local fetch only: allow loopback and private-network origins.")
  private boolean allowPrivate;

  @Override
  public Integer call() throws IOException {
    FetchRequest request = request();
    Digest digest;
    Optional<String> remote = cairn.remote();
    if (remote.isPresent()) {
      if (allowPrivate) {
        throw new ParameterException(spec.commandLine(),
            "--allow-private applies to local fetches; a server decides with its own --asset-allow-private");
      }
      GrpcAssetClient client;
      try {
        client = GrpcAssetClient.connect(remote.get());
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), "Invalid value for option '--remote': " + e.getMessage());
      }
      try (client) {
        digest = client.fetch(request);
      } catch (StatusRuntimeException e) {
        throw new IOException(remote.get() + ": " + e.getStatus().getCode() + ": " + e.getStatus().getDescription(), e);
      }
    } else {
      try (DiskBlobStore store = cairn.openStore();
          AssetResolver resolver = LocalAssets.resolver(cairn.storePath(), store,
              AssetConfig.defaults().withAllowPrivate(allowPrivate))) {
        digest = resolver.fetch(request).digest();
      } catch (IllegalArgumentException e) {
        throw new ParameterException(spec.commandLine(), e.getMessage());
      }
    }
    cairn.invocation().out().println(digest);
    return 0;
  }

  private FetchRequest request() {
    Map<String, String> q = new LinkedHashMap<>();
    if (sri != null) {
      q.put(Qualifiers.SRI, sri);
    }
    if (type != null) {
      q.put(Qualifiers.RESOURCE_TYPE, type);
    }
    if (gitCommit != null) {
      q.put(Qualifiers.VCS_COMMIT, gitCommit);
    }
    if (gitBranch != null) {
      q.put(Qualifiers.VCS_BRANCH, gitBranch);
    }
    for (String h : headers) {
      int eq = h.indexOf('=');
      if (eq <= 0) {
        throw new ParameterException(spec.commandLine(), "invalid --header '" + h + "': expected NAME=VALUE");
      }
      q.put(Qualifiers.HEADER + h.substring(0, eq), h.substring(eq + 1));
    }
    boolean directory = archive || type != null || gitCommit != null || gitBranch != null;
    Optional<Duration> t = Optional.empty();
    if (timeout != null) {
      try {
        t = Optional.of(ServeCommand.parseDuration(timeout.trim()));
      } catch (RuntimeException e) {
        throw new ParameterException(spec.commandLine(), "invalid --timeout '" + timeout + "': expected e.g. 90s or 10m");
      }
    }
    try {
      Qualifiers qualifiers = Qualifiers.of(q);
      qualifiers.checkSupported(urls.size());
      return new FetchRequest(directory ? AssetKey.Kind.DIRECTORY : AssetKey.Kind.BLOB, "",
          cairn.digestFunction(), urls, qualifiers, t, Optional.empty());
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), e.getMessage());
    }
  }
}
