package dev.cairn.asset;

import dev.cairn.asset.AssetKey.Kind;
import dev.cairn.asset.FetchException.Reason;
import dev.cairn.asset.archive.ArchiveFormat;
import dev.cairn.asset.archive.ArchiveImporter;
import dev.cairn.asset.archive.InvalidArchiveException;
import dev.cairn.asset.git.GitFetcher;
import dev.cairn.asset.git.GitOriginRefusedException;
import dev.cairn.asset.git.GitRefNotFoundException;
import dev.cairn.asset.http.HttpFetcher;
import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.InvalidTreeException;
import dev.cairn.core.tree.TreeWalker;
import build.bazel.remote.execution.v2.FileNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/**
 * Resolves names (URIs + qualifiers) to content in the CAS: from the {@link AssetIndex} when it
 * holds a fresh enough entry whose content is all still in the CAS, else from the origin (http/https
 * downloads, archives unpacked for directories, git), recording the result under every URI of the
 * request. Also records client-given mappings (Push). The Fetch and Push gRPC services, {@code
 * cairn fetch} and the local {@link dev.cairn.asset.ref.LocalRefStore} are thin adapters over it.
 *
 * <p>Concurrent identical fetches are collapsed: the first caller downloads, the others wait for
 * its result, so a hundred clients asking for one URL cause one origin download. Thread-safe.
 */
public final class AssetResolver implements AutoCloseable {
  private static final int FIND_MISSING_CHUNK = 10_000;

  private final Map<DigestFunction, BlobStore> cas;
  private final AssetIndex index;
  private final AssetConfig config;
  private final OriginPolicy policy;
  private final Path workDir;
  private final InstantSource clock;
  private final HttpFetcher http;
  private final ConcurrentHashMap<Flight, CompletableFuture<FetchResult>> flights = new ConcurrentHashMap<>();

  /** What makes two fetches the same download. */
  private record Flight(Kind kind, String instance, DigestFunction function, List<String> uris,
      SortedMap<String, String> qualifiers, Optional<Instant> oldest) {}

  /**
   * @param cas the CAS per digest function served
   * @param workDir scratch space for downloads and git clones; on the CAS's file system, so that
   *     a finished download can be moved into the store instead of copied
   * @param policy which origins may be contacted (normally a {@link PublicAddressPolicy})
   */
  public AssetResolver(Map<DigestFunction, BlobStore> cas, AssetIndex index, AssetConfig config,
      OriginPolicy policy, Path workDir, InstantSource clock) {
    this.cas = Map.copyOf(cas);
    this.index = Objects.requireNonNull(index, "index");
    this.config = Objects.requireNonNull(config, "config");
    this.policy = Objects.requireNonNull(policy, "policy");
    this.workDir = Objects.requireNonNull(workDir, "workDir");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.http = new HttpFetcher(policy, config.maxDownloadBytes());
  }

  /**
   * Deletes downloads left in the work directory by a process that died mid-fetch: partial files
   * not written to for {@code age} (a live download writes continuously). Returns how many.
   */
  public int removeStaleDownloads(java.time.Duration age) throws IOException {
    Path downloads = workDir.resolve("downloads");
    if (!Files.isDirectory(downloads)) {
      return 0;
    }
    Instant cutoff = Instant.now().minus(age);
    int removed = 0;
    try (var files = Files.list(downloads)) {
      for (Path f : (Iterable<Path>) files::iterator) {
        if (f.getFileName().toString().endsWith(".part")
            && Files.getLastModifiedTime(f).toInstant().isBefore(cutoff) && Files.deleteIfExists(f)) {
          removed++;
        }
      }
    }
    return removed;
  }

  /** The CAS for {@code function}; IllegalArgumentException if it is not served. */
  public BlobStore cas(DigestFunction function) {
    BlobStore store = cas.get(function);
    if (store == null) {
      throw new IllegalArgumentException("digest function " + function.cliName() + " is not served here");
    }
    return store;
  }

  public AssetIndex index() {
    return index;
  }

  /**
   * Answers a fetch from the index or the origin.
   *
   * @throws IllegalArgumentException for a request that is invalid whatever the origin says (no
   *     URIs, an unsupported qualifier, a bad checksum.sri)
   * @throws FetchException when the origin cannot give the content (not found, refused, timeout,
   *     checksum mismatch, too large)
   */
  public FetchResult fetch(FetchRequest request) throws IOException {
    if (request.uris().isEmpty()) {
      throw new IllegalArgumentException("a fetch needs at least one URI");
    }
    for (String uri : request.uris()) {
      if (uri.isEmpty()) {
        throw new IllegalArgumentException("a fetch names an empty URI");
      }
    }
    BlobStore store = cas(request.function());
    Optional<FetchResult> hit = lookup(request, store);
    if (hit.isPresent()) {
      return hit.get();
    }
    if (!fetchable(request)) {
      throw new AssetNotFoundException((request.kind() == Kind.BLOB ? "no blob" : "no directory")
          + " for " + String.join(", ", request.uris())
          + (request.qualifiers().asMap().isEmpty() ? "" : " with qualifiers " + request.qualifiers())
          + (request.instance().isEmpty() ? "" : " in instance '" + request.instance() + "'")
          + " (not in the index, and not a URL Cairn fetches)");
    }
    request.qualifiers().checkSupported(request.uris().size());
    Flight flight = new Flight(request.kind(), request.instance(), request.function(), request.uris(),
        request.qualifiers().asMap(), request.oldestAccepted());
    CompletableFuture<FetchResult> mine = new CompletableFuture<>();
    CompletableFuture<FetchResult> leader = flights.putIfAbsent(flight, mine);
    if (leader != null) {
      return await(leader);
    }
    try {
      // A fetch that finished between our lookup and our flight has recorded its result by now.
      FetchResult result = lookup(request, store).orElse(null);
      if (result == null) {
        result = fromOrigin(request, store);
      }
      mine.complete(result);
      return result;
    } catch (IOException | RuntimeException e) {
      mine.completeExceptionally(e);
      throw e;
    } finally {
      flights.remove(flight, mine);
    }
  }

  private static FetchResult await(CompletableFuture<FetchResult> leader) throws IOException {
    try {
      return leader.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while waiting for the same fetch");
    } catch (ExecutionException e) {
      switch (e.getCause()) {
        case FetchException f -> throw new FetchException(f.reason(), f.uri(), f.getMessage(), f);
        case IOException io -> throw new IOException(io.getMessage(), io);
        case IllegalArgumentException ia -> throw new IllegalArgumentException(ia.getMessage(), ia);
        case RuntimeException r -> throw new IllegalStateException(r.getMessage(), r);
        default -> throw new IllegalStateException(e.getCause());
      }
    }
  }

  /** The first URI whose index entry is fresh enough and whose content is all in the CAS. */
  private Optional<FetchResult> lookup(FetchRequest request, BlobStore store) throws IOException {
    for (String uri : request.uris()) {
      AssetKey key = new AssetKey(request.kind(), request.instance(), request.function(), uri,
          request.qualifiers().forIndex());
      Optional<AssetEntry> entry = index.get(key);
      if (entry.isEmpty()) {
        continue;
      }
      AssetEntry e = entry.get();
      if (request.oldestAccepted().isPresent() && e.fetchedAt().isBefore(request.oldestAccepted().get())) {
        continue;
      }
      if (!complete(store, request.kind(), e.digest())) {
        index.remove(key); // its content was evicted: fetch again
        continue;
      }
      return Optional.of(new FetchResult(uri, e.digest(), e.fetchedAt(), e.expiresAt(), true));
    }
    return Optional.empty();
  }

  /**
   * Whether the content is all in the CAS (for a directory: every Directory message and every file
   * of the tree), refreshing it there as a hit.
   */
  public static boolean complete(BlobStore store, Kind kind, Digest digest) throws IOException {
    if (kind == Kind.BLOB) {
      return store.findMissing(List.of(digest)).isEmpty();
    }
    return missingFromTree(store, digest).isEmpty();
  }

  /** The blobs of the tree at {@code root} that the store lacks (the root itself if it is missing). */
  static List<Digest> missingFromTree(BlobStore store, Digest root) throws IOException {
    List<Digest> missing = new ArrayList<>();
    List<Digest> files = new ArrayList<>();
    try {
      new TreeWalker(store).walk(root, new TreeWalker.Visitor() {
        @Override
        public void file(String path, FileNode file) throws IOException {
          files.add(Digest.fromProto(file.getDigest()));
          if (files.size() >= FIND_MISSING_CHUNK) {
            missing.addAll(store.findMissing(List.copyOf(files)));
            files.clear();
          }
        }
      });
    } catch (BlobNotFoundException e) {
      missing.add(e.digest());
      return missing;
    } catch (InvalidTreeException | IllegalArgumentException e) {
      missing.add(root);
      return missing;
    }
    missing.addAll(store.findMissing(files));
    return missing;
  }

  private FetchResult fromOrigin(FetchRequest request, BlobStore store) throws IOException {
    Instant started = clock.instant();
    String uri;
    Digest digest;
    if (request.kind() == Kind.DIRECTORY && isGit(request)) {
      var fetched = fetchGit(request, store);
      uri = fetched.uri();
      digest = fetched.digest();
    } else {
      List<URI> uris = new ArrayList<>();
      List<Map<String, String>> headers = new ArrayList<>();
      for (int i = 0; i < request.uris().size(); i++) {
        uris.add(parse(request.uris().get(i)));
        headers.add(request.qualifiers().headersFor(i));
      }
      // A resource_type naming no archive is the client's error: say so before downloading.
      Optional<ArchiveFormat> declared = request.kind() == Kind.DIRECTORY
          ? request.qualifiers().get(Qualifiers.RESOURCE_TYPE).map(ArchiveFormat::fromResourceType)
          : Optional.empty();
      Path downloads = workDir.resolve("downloads");
      HttpFetcher.Download download = http.download(uris, headers, request.qualifiers().sri(),
          request.function(), request.timeout().orElse(config.defaultTimeout()), downloads);
      uri = download.uri();
      try {
        if (request.kind() == Kind.BLOB) {
          // The fetcher hashed the body into this private file as it arrived.
          store.putHashedFile(download.digest(), download.file());
          digest = download.digest();
        } else {
          try {
            ArchiveFormat format = declared.isPresent() ? declared.get() : ArchiveFormat.detect(download.file());
            digest = new ArchiveImporter(store, request.function(), config.archiveLimits())
                .importArchive(download.file(), format);
          } catch (InvalidArchiveException e) {
            Reason reason = e.reason() == InvalidArchiveException.Reason.LIMIT_EXCEEDED
                ? Reason.RESOURCE_EXHAUSTED : Reason.ABORTED;
            throw new FetchException(reason, uri, uri + ": " + e.getMessage().replace(download.file().toString(), "download"), e);
          }
        }
      } finally {
        Files.deleteIfExists(download.file());
      }
    }
    AssetEntry entry = new AssetEntry(digest, started, Optional.empty());
    for (String u : request.uris()) {
      index.put(new AssetKey(request.kind(), request.instance(), request.function(), u,
          request.qualifiers().forIndex()), entry);
    }
    return new FetchResult(uri, digest, started, Optional.empty(), false);
  }

  private record Fetched(String uri, Digest digest) {}

  private Fetched fetchGit(FetchRequest request, BlobStore store) throws IOException {
    Optional<String> commit = request.qualifiers().get(Qualifiers.VCS_COMMIT);
    Optional<String> branch = request.qualifiers().get(Qualifiers.VCS_BRANCH);
    GitFetcher git = new GitFetcher(store, request.function(), workDir.resolve("git"), policy,
        config.maxDownloadBytes());
    List<FetchException> failures = new ArrayList<>();
    for (String u : request.uris()) {
      try {
        return new Fetched(u, git.fetch(parse(u), commit, branch,
            request.timeout().orElse(config.defaultTimeout())));
      } catch (FetchException e) {
        failures.add(e);
      } catch (GitRefNotFoundException e) {
        failures.add(new FetchException(Reason.NOT_FOUND, u, e.getMessage(), e));
      } catch (GitOriginRefusedException e) {
        failures.add(new FetchException(Reason.PERMISSION_DENIED, u, e.getMessage(), e));
      } catch (InterruptedIOException e) {
        throw e;
      } catch (IOException e) {
        failures.add(new FetchException(Reason.UNAVAILABLE, u, u + ": " + e.getMessage(), e));
      }
    }
    if (failures.size() == 1) {
      throw failures.getFirst();
    }
    FetchException last = failures.getLast();
    throw new FetchException(last.reason(), last.uri(), "all " + failures.size() + " URIs failed: "
        + String.join("; ", failures.stream().map(Throwable::getMessage).toList()), last);
  }

  /** Whether Cairn can fetch any of the request's URIs from an origin. */
  private static boolean fetchable(FetchRequest request) {
    if (request.kind() == Kind.DIRECTORY && isGit(request)) {
      return true;
    }
    for (String u : request.uris()) {
      try {
        if (HttpFetcher.handles(new URI(u))) {
          return true;
        }
      } catch (URISyntaxException e) {
        // not a URL: only the index could have it
      }
    }
    return false;
  }

  private static boolean isGit(FetchRequest request) {
    Qualifiers q = request.qualifiers();
    if (q.get(Qualifiers.VCS_COMMIT).isPresent() || q.get(Qualifiers.VCS_BRANCH).isPresent()) {
      return true;
    }
    if (q.get(Qualifiers.RESOURCE_TYPE).map(t -> t.equals("application/x-git")).orElse(false)) {
      return true;
    }
    return request.uris().stream().allMatch(u -> u.replaceAll("[?#].*$", "").replaceAll("/+$", "").endsWith(".git"));
  }

  private static URI parse(String uri) {
    try {
      return new URI(uri);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("invalid URI '" + uri + "': " + e.getMessage());
    }
  }

  /**
   * Records a client-given mapping under every URI (Push): the content must be in the CAS (for a
   * directory, the whole tree), and so must the referenced blobs and directories.
   *
   * @throws MissingContentException naming what is missing; nothing is recorded
   */
  public void push(Kind kind, String instance, DigestFunction function, List<String> uris,
      Qualifiers qualifiers, Digest digest, Optional<Instant> expireAt,
      Collection<Digest> referencedBlobs, Collection<Digest> referencedDirectories) throws IOException {
    if (uris.isEmpty()) {
      throw new IllegalArgumentException("a push needs at least one URI");
    }
    for (String uri : uris) {
      if (uri.isEmpty()) {
        throw new IllegalArgumentException("a push names an empty URI");
      }
    }
    BlobStore store = cas(function);
    List<Digest> missing = new ArrayList<>();
    List<Digest> blobs = new ArrayList<>(referencedBlobs);
    if (kind == Kind.BLOB) {
      blobs.add(digest);
    } else {
      missing.addAll(missingFromTree(store, digest));
    }
    for (Digest d : referencedDirectories) {
      missing.addAll(missingFromTree(store, d));
    }
    missing.addAll(store.findMissing(blobs));
    if (!missing.isEmpty()) {
      throw new MissingContentException("push of " + (kind == Kind.BLOB ? "blob " : "directory ")
          + digest + " as " + uris.getFirst(), missing.stream().distinct().toList());
    }
    AssetEntry entry = new AssetEntry(digest, clock.instant(), expireAt);
    for (String uri : uris) {
      index.put(new AssetKey(kind, instance, function, uri, qualifiers.forIndex()), entry);
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
