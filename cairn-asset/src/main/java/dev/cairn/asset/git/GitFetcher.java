package dev.cairn.asset.git;

import dev.cairn.asset.FetchException;
import dev.cairn.asset.OriginPolicy;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.api.errors.InvalidRemoteException;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.StoredConfig;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.FetchResult;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.TagOpt;

/**
 * Fetches a git repository (JGit, no git binary, no shell) and stores the tree of a commit or
 * branch in a CAS, straight from git objects: no checkout to disk.
 *
 * <p>Each repository URL gets a bare mirror under the work directory (named by a hash of the
 * URL), reused by later fetches: a commit already there and reachable from the mirror's refs
 * needs no network at all. Fetches of the same URL are serialized (in this JVM and, through a
 * file lock, across processes); different URLs proceed in parallel.
 *
 * <p>Only {@code https} and {@code http} origins are contacted, each checked with the {@link
 * OriginPolicy} first, and JGit is told not to follow redirects (which the policy could not
 * check). {@code file:} URLs are local, so they are allowed only when the policy allows the
 * loopback address (that is, private origins). {@code ssh}, {@code git}, {@code ext::} and
 * anything else are refused. The user's and system's git configuration is ignored (see {@link
 * IsolatedSystemReader}). Thread-safe.
 */
public final class GitFetcher {
  /** One lock per mirror directory, shared by every GitFetcher in the JVM. */
  private static final Map<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
  private static final URI LOOPBACK = URI.create("http://127.0.0.1/");
  private static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

  private final BlobStore store;
  private final DigestFunction function;
  private final Path workDirectory;
  private final OriginPolicy policy;
  private final long maxDownloadBytes;

  public GitFetcher(BlobStore store, DigestFunction function, Path workDirectory, OriginPolicy policy) {
    this(store, function, workDirectory, policy, Long.MAX_VALUE);
  }

  /**
   * A fetcher that gives up on a fetch once the pack it receives grows beyond {@code
   * maxDownloadBytes} (checked between objects, so one object larger than the limit is
   * received whole before the fetch stops; the store's own limit still applies to it).
   */
  public GitFetcher(BlobStore store, DigestFunction function, Path workDirectory,
      OriginPolicy policy, long maxDownloadBytes) {
    this.store = Objects.requireNonNull(store, "store");
    this.function = Objects.requireNonNull(function, "function");
    this.workDirectory = Objects.requireNonNull(workDirectory, "workDirectory");
    this.policy = Objects.requireNonNull(policy, "policy");
    if (maxDownloadBytes <= 0) {
      throw new IllegalArgumentException("download limit must be positive, got " + maxDownloadBytes);
    }
    this.maxDownloadBytes = maxDownloadBytes;
    IsolatedSystemReader.install();
  }

  /**
   * The root digest of the tree at {@code commit} (a full hex SHA-1 that must be reachable from
   * the repository's branches or tags), else at the tip of {@code branch}, else at the remote's
   * HEAD.
   *
   * @throws IllegalArgumentException for a URL scheme Cairn does not fetch or a malformed commit
   * @throws GitRefNotFoundException if the commit, branch or HEAD does not exist there
   */
  public Digest fetch(URI repository, Optional<String> commit, Optional<String> branch) throws IOException {
    return fetch(repository, commit, branch, DEFAULT_TIMEOUT);
  }

  /** As {@link #fetch(URI, Optional, Optional)}, with a network timeout for each I/O step. */
  public Digest fetch(URI repository, Optional<String> commit, Optional<String> branch,
      Duration timeout) throws IOException {
    String url = checkOrigin(repository);
    Optional<ObjectId> wanted = commit.map(GitFetcher::parseCommit);
    Path mirror = workDirectory.resolve(mirrorName(url));
    Files.createDirectories(workDirectory);
    ObjectId target;
    ReentrantLock lock = LOCKS.computeIfAbsent(mirror.toAbsolutePath().normalize(),
        p -> new ReentrantLock());
    try {
      lock.lockInterruptibly();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted waiting to fetch " + url);
    }
    try (FileChannel lockFile = FileChannel.open(workDirectory.resolve(mirror.getFileName() + ".lock"),
        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock ignored = lockFile.lock();
        Repository repo = openMirror(mirror)) {
      target = resolve(repo, url, wanted, branch, timeout);
    } finally {
      lock.unlock();
    }
    // Objects never change once fetched, so the tree is read without holding the lock.
    try (Repository repo = openMirror(mirror);
        ObjectReader reader = repo.newObjectReader();
        RevWalk walk = new RevWalk(reader)) {
      RevCommit c = walk.parseCommit(target);
      return new GitTreeImporter(store, function, reader, url + " at " + target.name())
          .importTree(c.getTree());
    }
  }

  private String checkOrigin(URI uri) throws IOException {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    switch (scheme) {
      case "https", "http" -> {
        if (uri.getHost() == null) {
          throw new IllegalArgumentException("git URL '" + uri + "' has no host");
        }
        policy.check(uri);
      }
      case "file" -> {
        if (uri.getHost() != null && !uri.getHost().isEmpty()) {
          throw new IllegalArgumentException("git URL '" + uri + "': file URLs cannot name a host");
        }
        // A local path reaches what only the server can reach, like a loopback address does.
        try {
          policy.check(LOOPBACK);
        } catch (IOException e) {
          throw new GitOriginRefusedException("refusing to fetch " + uri + ": file URLs are "
              + "allowed only where private origins are (" + e.getMessage() + ")", e);
        }
      }
      default -> throw new IllegalArgumentException("git URL '" + uri + "': scheme '"
          + (scheme.isEmpty() ? "(none)" : scheme) + "' is not fetched; Cairn fetches git "
          + "repositories over https or http (file only where private origins are allowed)");
    }
    if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException("git URL '" + uri + "' has a query or fragment");
    }
    return uri.toString();
  }

  private static ObjectId parseCommit(String commit) {
    String c = commit.strip().toLowerCase(Locale.ROOT);
    if (!c.matches("[0-9a-f]{40}")) {
      throw new IllegalArgumentException("vcs.commit '" + commit + "' is not a full 40-character"
          + " hex commit id (abbreviated ids and ref names are not accepted)");
    }
    return ObjectId.fromString(c);
  }

  private static String mirrorName(String url) {
    try {
      byte[] h = java.security.MessageDigest.getInstance("SHA-256")
          .digest(url.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(h, 0, 16) + ".git";
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Repository openMirror(Path dir) throws IOException {
    Repository repo = new FileRepositoryBuilder().setGitDir(dir.toFile()).setBare().build();
    if (!repo.getObjectDatabase().exists()) {
      repo.create(true);
      StoredConfig config = repo.getConfig();
      // A redirect would go where the origin policy never looked.
      config.setString("http", null, "followRedirects", "false");
      config.save();
    }
    return repo;
  }

  private ObjectId resolve(Repository repo, String url, Optional<ObjectId> commit,
      Optional<String> branch, Duration timeout) throws IOException {
    if (commit.isPresent()) {
      if (reachable(repo, commit.get())) {
        return commit.get();
      }
      fetchAll(repo, url, timeout);
      if (!reachable(repo, commit.get())) {
        throw new GitRefNotFoundException("commit " + commit.get().name() + " not found in "
            + url + " (not reachable from its branches or tags)");
      }
      return commit.get();
    }
    FetchResult result = fetchAll(repo, url, timeout);
    if (branch.isPresent()) {
      Ref ref = repo.exactRef(Constants.R_HEADS + branch.get());
      if (ref == null || ref.getObjectId() == null) {
        throw new GitRefNotFoundException("branch '" + branch.get() + "' not found in " + url);
      }
      return peelToCommit(repo, ref.getObjectId(), url);
    }
    Ref head = result.getAdvertisedRef(Constants.HEAD);
    if (head == null || head.getObjectId() == null) {
      throw new GitRefNotFoundException(url + " has no HEAD (an empty repository?)");
    }
    return peelToCommit(repo, head.getObjectId(), url);
  }

  private static ObjectId peelToCommit(Repository repo, ObjectId id, String url) throws IOException {
    try (RevWalk walk = new RevWalk(repo)) {
      return walk.parseCommit(id).copy();
    } catch (MissingObjectException e) {
      throw new GitRefNotFoundException(url + ": " + id.name() + " was advertised but not fetched");
    }
  }

  private FetchResult fetchAll(Repository repo, String url, Duration timeout) throws IOException {
    PackSizeLimit limit = new PackSizeLimit(repo.getDirectory().toPath().resolve("objects"), maxDownloadBytes);
    try (Git git = Git.wrap(repo)) {
      return git.fetch()
          .setRemote(url)
          .setRefSpecs(new RefSpec("+refs/heads/*:refs/heads/*"),
              new RefSpec("+refs/tags/*:refs/tags/*"))
          .setTagOpt(TagOpt.NO_TAGS)
          .setRemoveDeletedRefs(true)
          // Not fsck'd on the way in: many real repositories have harmless fsck warnings (old
          // zero-padded modes) that would make them unfetchable; what matters for a tree that is
          // never checked out here, names, is checked by GitTreeImporter.
          .setCheckFetchedObjects(false)
          .setTimeout((int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toSeconds())))
          .setProgressMonitor(limit)
          .call();
    } catch (InvalidRemoteException e) {
      throw new GitRefNotFoundException(url + ": not a git repository ("
          + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()) + ")");
    } catch (GitAPIException | org.eclipse.jgit.api.errors.JGitInternalException e) {
      if (limit.exceeded()) {
        throw new FetchException(FetchException.Reason.RESOURCE_EXHAUSTED, url, url
            + ": download of more than " + maxDownloadBytes
            + " bytes exceeds the limit (asset-max-download-size); nothing was kept");
      }
      throw new IOException("fetching " + url + " failed: " + e.getMessage(), e);
    }
  }

  /** Whether {@code commit} is in the mirror and reachable from one of its branches or tags. */
  private static boolean reachable(Repository repo, ObjectId commit) throws IOException {
    if (!repo.getObjectDatabase().has(commit)) {
      return false;
    }
    try (RevWalk walk = new RevWalk(repo)) {
      RevCommit target;
      try {
        target = walk.parseCommit(commit);
      } catch (org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
        throw new IllegalArgumentException("vcs.commit " + commit.name() + " is not a commit");
      }
      for (Ref ref : repo.getRefDatabase().getRefs()) {
        ObjectId tip = ref.getPeeledObjectId() != null ? ref.getPeeledObjectId() : ref.getObjectId();
        if (tip == null) {
          continue;
        }
        RevCommit tipCommit;
        try {
          tipCommit = walk.parseCommit(tip);
        } catch (org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
          continue; // a tag of a tree or blob
        }
        if (walk.isMergedInto(target, tipCommit)) {
          return true;
        }
        walk.reset();
      }
    }
    return false;
  }
}
