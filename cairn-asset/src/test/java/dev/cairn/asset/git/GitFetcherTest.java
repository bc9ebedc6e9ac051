package dev.cairn.asset.git;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.asset.OriginPolicy;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.InvalidTreeException;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.TreeExporter;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.RefUpdate;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fetches from real local repositories made with JGit, compared with {@code cairn import} of a
 * checkout of the same commit.
 */
class GitFetcherTest {
  private static final OriginPolicy ALLOW_PRIVATE = uri -> { };
  private static final OriginPolicy PUBLIC_ONLY = uri -> {
    throw new IOException("refusing " + uri + ": a loopback address");
  };

  @TempDir Path tmp;
  private InMemoryBlobStore store;
  private Path origin;
  private URI originUrl;
  private RevCommit first;
  private RevCommit onFeature;
  private RevCommit mainTip;

  @BeforeEach
  void makeOrigin() throws Exception {
    store = new InMemoryBlobStore(DigestFunction.SHA256);
    origin = tmp.resolve("origin");
    try (Git git = Git.init().setDirectory(origin.toFile()).setInitialBranch("main").call()) {
      Files.createDirectories(origin.resolve("src/nested/deeper"));
      Files.writeString(origin.resolve("README.md"), "hello\n");
      Files.writeString(origin.resolve("src/nested/deeper/x.txt"), "deep\n");
      Files.writeString(origin.resolve("\uD834\uDD1E-clef.txt"), "music\n");
      Files.writeString(origin.resolve("\uFF41-fullwidth.txt"), "bmp\n");
      Path exe = Files.writeString(origin.resolve("run.sh"), "#!/bin/sh\necho run\n");
      Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
      byte[] big = new byte[1 << 20];
      new java.util.Random(7).nextBytes(big);
      Files.write(origin.resolve("src/big.bin"), big);
      Files.createSymbolicLink(origin.resolve("link"), Path.of("src/nested"));
      Files.createSymbolicLink(origin.resolve("abs-link"), Path.of("/etc/hostname"));
      first = commitAll(git, "first");

      git.checkout().setCreateBranch(true).setName("feature").call();
      Files.writeString(origin.resolve("feature.txt"), "only on feature\n");
      onFeature = commitAll(git, "feature work");

      git.checkout().setName("main").call();
      Files.delete(origin.resolve("README.md"));
      Files.writeString(origin.resolve("src/main-only.txt"), "main\n");
      mainTip = commitAll(git, "main moves on");
    }
    originUrl = origin.toUri();
  }

  private static RevCommit commitAll(Git git, String message) throws Exception {
    git.add().addFilepattern(".").call();
    git.add().addFilepattern(".").setUpdate(true).call();
    return git.commit().setMessage(message).setAuthor(new PersonIdent("t", "t@example.com"))
        .setCommitter(new PersonIdent("t", "t@example.com")).call();
  }

  private GitFetcher fetcher(OriginPolicy policy) {
    return new GitFetcher(store, DigestFunction.SHA256, tmp.resolve("work"), policy);
  }

  @Test
  void fetch_largerThanTheDownloadLimit_isRefused_keepsNothing_andCanBeRetriedWithRoom() throws Exception {
    GitFetcher small = new GitFetcher(store, DigestFunction.SHA256, tmp.resolve("work"), ALLOW_PRIVATE,
        256 << 10); // the origin holds a 1 MiB incompressible file
    assertThatThrownBy(() -> small.fetch(originUrl, Optional.empty(), Optional.empty()))
        .isInstanceOfSatisfying(dev.cairn.asset.FetchException.class, e -> assertThat(e.reason())
            .isEqualTo(dev.cairn.asset.FetchException.Reason.RESOURCE_EXHAUSTED))
        .hasMessageContaining("exceeds the limit");
    try (var files = Files.walk(tmp.resolve("work"))) {
      assertThat(files.filter(f -> f.getFileName().toString().startsWith("incoming_")))
          .as("no partial pack left behind").isEmpty();
    }
    assertThat(store.findMissing(List.of(cairnImport(checkout(mainTip))))).as("no tree stored").isNotEmpty();

    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.empty(), Optional.empty());
    assertThat(root).isEqualTo(cairnImport(checkout(mainTip)));
  }

  @Test
  void fetch_commit_equalsCairnImportOfACheckout() throws Exception {
    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.of(first.name()), Optional.empty());
    assertThat(root).isEqualTo(cairnImport(checkout(first)));
    assertExportsTo(root, checkout(first));
  }

  @Test
  void fetch_branch_givesItsTip() throws Exception {
    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.empty(), Optional.of("feature"));
    assertThat(root).isEqualTo(cairnImport(checkout(onFeature)));
  }

  @Test
  void fetch_nothingNamed_givesHead() throws Exception {
    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.empty(), Optional.empty());
    assertThat(root).isEqualTo(cairnImport(checkout(mainTip)));
    assertThat(root).isNotEqualTo(cairnImport(checkout(first)));
  }

  @Test
  void fetch_commitWins_overBranch() throws Exception {
    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.of(first.name()), Optional.of("feature"));
    assertThat(root).isEqualTo(cairnImport(checkout(first)));
  }

  @Test
  void fetch_equalsGitArchiveOfTheSameCommit() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/git")));
    Path archive = tmp.resolve("archive.tar");
    run(origin, "git", "archive", "--format=tar", "-o", archive.toString(), onFeature.name());
    Path extracted = Files.createDirectory(tmp.resolve("extracted"));
    run(extracted, "tar", "-xf", archive.toString());
    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.of(onFeature.name()), Optional.empty());
    assertThat(root).isEqualTo(cairnImport(extracted));
  }

  @Test
  void fetch_unknownCommit_isNotFound_namingIt() {
    String unknown = "0123456789abcdef0123456789abcdef01234567";
    assertThatThrownBy(() -> fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.of(unknown), Optional.empty()))
        .isInstanceOf(GitRefNotFoundException.class).hasMessageContaining(unknown);
  }

  @Test
  void fetch_unknownBranch_isNotFound() {
    assertThatThrownBy(() -> fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.empty(), Optional.of("nope")))
        .isInstanceOf(GitRefNotFoundException.class).hasMessageContaining("'nope'");
  }

  @Test
  void fetch_abbreviatedCommit_isRefused() {
    assertThatThrownBy(() -> fetcher(ALLOW_PRIVATE)
        .fetch(originUrl, Optional.of(first.name().substring(0, 12)), Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("full 40-character");
  }

  @Test
  void fetch_notARepository_isNotFound() throws Exception {
    Path empty = Files.createDirectory(tmp.resolve("not-a-repo"));
    assertThatThrownBy(() -> fetcher(ALLOW_PRIVATE).fetch(empty.toUri(), Optional.empty(), Optional.empty()))
        .isInstanceOf(GitRefNotFoundException.class).hasMessageContaining("not a git repository");
  }

  @Test
  void fetch_refusesSchemesOtherThanHttpsHttpAndFile() {
    for (String url : List.of("ssh://git@example.com/repo.git", "git://example.com/repo.git",
        "ext::sh%20-c%20touch%20/tmp/pwned", "example.com/repo.git", "ftp://example.com/r.git")) {
      URI uri;
      try {
        uri = new URI(url);
      } catch (java.net.URISyntaxException e) {
        throw new AssertionError(e);
      }
      assertThatThrownBy(() -> fetcher(ALLOW_PRIVATE).fetch(uri, Optional.empty(), Optional.empty()))
          .as(url).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not fetched");
    }
  }

  @Test
  void fetch_checksHttpOriginsWithThePolicyBeforeConnecting() {
    AtomicInteger asked = new AtomicInteger();
    OriginPolicy policy = uri -> {
      asked.incrementAndGet();
      throw new IOException("refusing " + uri + ": a loopback address");
    };
    assertThatThrownBy(() -> fetcher(policy).fetch(URI.create("http://127.0.0.1:9/repo.git"),
        Optional.empty(), Optional.empty()))
        .hasMessageContaining("loopback");
    assertThat(asked).hasValue(1);
  }

  @Test
  void fetch_fileUrl_refusedUnlessPrivateOriginsAreAllowed() {
    assertThatThrownBy(() -> fetcher(PUBLIC_ONLY).fetch(originUrl, Optional.empty(), Optional.empty()))
        .isInstanceOf(GitOriginRefusedException.class).hasMessageContaining("file URLs");
  }

  @Test
  void fetch_reusesTheMirror_aKnownCommitNeedsNoOrigin() throws Exception {
    GitFetcher fetcher = fetcher(ALLOW_PRIVATE);
    Digest before = fetcher.fetch(originUrl, Optional.of(first.name()), Optional.empty());
    Path moved = tmp.resolve("origin-gone");
    Files.move(origin, moved);
    assertThat(fetcher.fetch(originUrl, Optional.of(first.name()), Optional.empty())).isEqualTo(before);
    assertThat(fetcher.fetch(originUrl, Optional.of(mainTip.name()), Optional.empty()))
        .isEqualTo(cairnImportOfCommit(moved, mainTip));
  }

  @Test
  void fetch_concurrentFetchesOfOneUrl_allSucceedWithTheSameTree() throws Exception {
    int n = 8;
    List<Future<Digest>> results = new ArrayList<>();
    try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
      for (int i = 0; i < n; i++) {
        // a fetcher per request, as the service creates them
        GitFetcher f = fetcher(ALLOW_PRIVATE);
        results.add(pool.submit(() -> f.fetch(originUrl, Optional.empty(), Optional.of("feature"))));
      }
    }
    Digest expected = cairnImport(checkout(onFeature));
    for (Future<Digest> r : results) {
      assertThat(r.get()).isEqualTo(expected);
    }
  }

  @Test
  void fetch_submodulesAreLeftOut_andDotGitEntriesRefused() throws Exception {
    RevCommit withGitlink;
    RevCommit withDotGit;
    try (Repository repo = Git.open(origin.toFile()).getRepository();
        ObjectInserter ins = repo.newObjectInserter()) {
      ObjectId blob = ins.insert(Constants.OBJ_BLOB, "x\n".getBytes(StandardCharsets.UTF_8));
      TreeFormatter t = new TreeFormatter();
      t.append("a.txt", FileMode.REGULAR_FILE, blob);
      t.append("sub", FileMode.GITLINK, ObjectId.fromString("1111111111111111111111111111111111111111"));
      withGitlink = parse(repo, commit(ins, ins.insert(t)));
      TreeFormatter bad = new TreeFormatter();
      bad.append(".git", FileMode.REGULAR_FILE, blob);
      withDotGit = parse(repo, commit(ins, ins.insert(bad)));
      ins.flush();
      setRef(repo, "refs/heads/gitlink", withGitlink);
      setRef(repo, "refs/heads/dotgit", withDotGit);
    }
    Digest root = fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.of(withGitlink.name()), Optional.empty());
    Path expected = Files.createDirectory(tmp.resolve("expected"));
    Files.writeString(expected.resolve("a.txt"), "x\n");
    assertThat(root).isEqualTo(cairnImport(expected));

    assertThatThrownBy(() -> fetcher(ALLOW_PRIVATE).fetch(originUrl, Optional.empty(), Optional.of("dotgit")))
        .isInstanceOf(IOException.class).hasMessageContaining(".git");
  }

  // ---- helpers ----

  private static ObjectId commit(ObjectInserter ins, ObjectId tree) throws IOException {
    CommitBuilder c = new CommitBuilder();
    c.setTreeId(tree);
    c.setAuthor(new PersonIdent("t", "t@example.com"));
    c.setCommitter(new PersonIdent("t", "t@example.com"));
    c.setMessage("crafted\n");
    return ins.insert(c);
  }

  private static RevCommit parse(Repository repo, ObjectId id) throws IOException {
    try (var walk = new org.eclipse.jgit.revwalk.RevWalk(repo)) {
      return walk.parseCommit(id);
    }
  }

  private static void setRef(Repository repo, String name, ObjectId id) throws IOException {
    RefUpdate u = repo.updateRef(name);
    u.setNewObjectId(id);
    u.setForceUpdate(true);
    assertThat(u.update()).isIn(RefUpdate.Result.NEW, RefUpdate.Result.FORCED);
  }

  /** A fresh clone of the origin checked out at {@code commit}, without its .git. */
  private Path checkout(RevCommit commit) throws Exception {
    return checkoutFrom(origin, commit);
  }

  private Path checkoutFrom(Path repo, RevCommit commit) throws Exception {
    Path dir = tmp.resolve("checkout-" + commit.name() + "-" + System.nanoTime());
    try (Git git = Git.cloneRepository().setURI(repo.toUri().toString())
        .setDirectory(dir.toFile()).setNoCheckout(true).call()) {
      git.checkout().setName(commit.name()).call();
    }
    deleteTree(dir.resolve(".git"));
    return dir;
  }

  private Digest cairnImportOfCommit(Path repo, RevCommit commit) throws Exception {
    return cairnImport(checkoutFrom(repo, commit));
  }

  private static Digest cairnImport(Path dir) throws IOException {
    return new MerkleTreeBuilder(new InMemoryBlobStore(DigestFunction.SHA256)).build(dir).root();
  }

  private void assertExportsTo(Digest root, Path original) throws IOException {
    Path out = tmp.resolve("export");
    new TreeExporter(store).export(root, out);
    assertThat(cairnImport(out)).isEqualTo(cairnImport(original));
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  private static void run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
  }
}
