package dev.cairn.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.asset.v1.FetchDirectoryRequest;
import build.bazel.remote.asset.v1.FetchDirectoryResponse;
import com.google.rpc.Code;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.Progress;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.eclipse.jgit.api.Git;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FetchDirectory through the real gRPC service: archives over HTTP, and git repositories. */
class FetchDirectoryServiceTest {
  @TempDir Path dir;
  private TestOrigin origin;
  private AssetHarness asset;

  @BeforeEach
  void start() throws Exception {
    origin = new TestOrigin();
    asset = new AssetHarness(dir.resolve("asset"), AssetHarness.allowPrivate(), new AssetHarness.MutableClock());
  }

  @AfterEach
  void stop() throws Exception {
    asset.close();
    origin.close();
  }

  /** A small tree on disk: a file, an executable, a symlink, an empty directory. */
  private Path sourceTree() throws Exception {
    Path src = Files.createDirectories(dir.resolve("src"));
    Files.writeString(src.resolve("README"), "readme\n");
    Path bin = Files.createDirectories(src.resolve("bin"));
    Files.writeString(bin.resolve("run.sh"), "#!/bin/sh\necho hi\n");
    Files.setPosixFilePermissions(bin.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createSymbolicLink(src.resolve("link"), Path.of("README"));
    Files.createDirectories(src.resolve("empty"));
    return src;
  }

  private static byte[] tarGz(Path src) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (TarArchiveOutputStream tar = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes));
        var paths = Files.walk(src)) {
      for (Path p : paths.sorted().toList()) {
        if (p.equals(src)) {
          continue;
        }
        String name = src.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
          e.setLinkName(Files.readSymbolicLink(p).toString());
          tar.putArchiveEntry(e);
        } else if (Files.isDirectory(p)) {
          tar.putArchiveEntry(new TarArchiveEntry(name + "/"));
        } else {
          byte[] content = Files.readAllBytes(p);
          TarArchiveEntry e = new TarArchiveEntry(name);
          e.setSize(content.length);
          e.setMode(Files.isExecutable(p) ? 0755 : 0644);
          tar.putArchiveEntry(e);
          tar.write(content);
        }
        tar.closeArchiveEntry();
      }
    }
    return bytes.toByteArray();
  }

  private static Digest imported(Path src) throws Exception {
    return new MerkleTreeBuilder(new InMemoryBlobStore(DigestFunction.SHA256), 1, Progress.NONE).build(src).root();
  }

  private FetchDirectoryResponse fetchDir(FetchDirectoryRequest.Builder b) {
    return asset.fetch.fetchDirectory(b.build());
  }

  @Test
  void archive_detectedFromContent_givesTheSameRootAsImportingTheTree() throws Exception {
    Path src = sourceTree();
    origin.serve("/download", tarGz(src)); // no extension: the format comes from the content
    FetchDirectoryResponse r = fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/download")));
    assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isZero();
    Digest root = Digest.fromProto(r.getRootDirectoryDigest());
    assertThat(root).isEqualTo(imported(src));
    assertThat(AssetResolver.complete(asset.cas, AssetKey.Kind.DIRECTORY, root)).isTrue();
    // Again: from the index.
    fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/download")));
    assertThat(origin.requests("/download")).isEqualTo(1);
  }

  @Test
  void archive_evictedFile_makesTheTreeIncomplete_andIsFetchedAgain() throws Exception {
    Path src = sourceTree();
    origin.serve("/src.tar.gz", tarGz(src));
    FetchDirectoryResponse first = fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/src.tar.gz")));
    Digest root = Digest.fromProto(first.getRootDirectoryDigest());
    // Evict everything, then put the root Directory back: only the files are missing now.
    byte[] rootBytes = asset.cas.get(root);
    asset.cas.gc(0);
    asset.cas.put(root, rootBytes);
    FetchDirectoryResponse again = fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/src.tar.gz")));
    assertThat(Digest.fromProto(again.getRootDirectoryDigest())).isEqualTo(root);
    assertThat(origin.requests("/src.tar.gz")).isEqualTo(2);
    assertThat(AssetResolver.complete(asset.cas, AssetKey.Kind.DIRECTORY, root)).isTrue();
  }

  @Test
  void resourceType_namesTheFormat_andAnUnknownOneIsInvalidArgument() throws Exception {
    Path src = sourceTree();
    origin.serve("/blob", tarGz(src));
    FetchDirectoryResponse r = fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/blob"))
        .addQualifiers(FetchServiceTest.q("resource_type", "application/x-compressed-tar")));
    assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isZero();
    assertThat(Digest.fromProto(r.getRootDirectoryDigest())).isEqualTo(imported(src));
    assertThatThrownBy(() -> fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/blob"))
        .addQualifiers(FetchServiceTest.q("resource_type", "application/pdf"))))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("application/pdf");
        });
  }

  @Test
  void notAnArchive_isAbortedAndNothingIsIndexed() {
    origin.serve("/page.html", "<html>not an archive</html>".getBytes(StandardCharsets.UTF_8));
    FetchDirectoryResponse r = fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/page.html")));
    assertThat(r.getStatus().getCode()).isEqualTo(Code.ABORTED_VALUE);
    assertThat(r.getStatus().getMessage()).contains("not a recognised archive");
    assertThat(asset.index.size()).isZero();
  }

  @Test
  void archiveOverTheExtractionLimit_isResourceExhausted() throws Exception {
    origin.serve("/bomb.tar.gz", tarGz(sourceTree()));
    AssetConfig tiny = new AssetConfig(true, 1 << 20, 100, java.time.Duration.ofMinutes(1),
        new dev.cairn.asset.archive.ArchiveLimits(5, 100));
    try (AssetHarness small = new AssetHarness(dir.resolve("small"), tiny, new AssetHarness.MutableClock())) {
      FetchDirectoryResponse r = small.fetch.fetchDirectory(
          FetchDirectoryRequest.newBuilder().addUris(origin.url("/bomb.tar.gz")).build());
      assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isEqualTo(Code.RESOURCE_EXHAUSTED_VALUE);
    }
  }

  @Test
  void git_commitAndBranch_giveTheCheckedOutTree() throws Exception {
    Path repo = Files.createDirectories(dir.resolve("repo"));
    String first;
    try (Git git = Git.init().setDirectory(repo.toFile()).setInitialBranch("main").call()) {
      Files.writeString(repo.resolve("a.txt"), "one\n");
      git.add().addFilepattern(".").call();
      first = git.commit().setMessage("one").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
          .setSign(false).call().name();
      Files.writeString(repo.resolve("a.txt"), "two\n");
      git.add().addFilepattern(".").call();
      git.commit().setMessage("two").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
          .setSign(false).call();
    }
    String url = repo.toUri().toString();
    Path expectOne = Files.createDirectories(dir.resolve("one"));
    Files.writeString(expectOne.resolve("a.txt"), "one\n");
    Path expectTwo = Files.createDirectories(dir.resolve("two"));
    Files.writeString(expectTwo.resolve("a.txt"), "two\n");

    FetchDirectoryResponse byCommit = fetchDir(FetchDirectoryRequest.newBuilder().addUris(url)
        .addQualifiers(FetchServiceTest.q("vcs.commit", first)));
    assertThat(byCommit.getStatus().getCode()).as(byCommit.getStatus().getMessage()).isZero();
    assertThat(Digest.fromProto(byCommit.getRootDirectoryDigest())).isEqualTo(imported(expectOne));
    FetchDirectoryResponse byBranch = fetchDir(FetchDirectoryRequest.newBuilder().addUris(url)
        .addQualifiers(FetchServiceTest.q("vcs.branch", "main")));
    assertThat(Digest.fromProto(byBranch.getRootDirectoryDigest())).isEqualTo(imported(expectTwo));
    FetchDirectoryResponse noBranch = fetchDir(FetchDirectoryRequest.newBuilder().addUris(url)
        .addQualifiers(FetchServiceTest.q("vcs.branch", "nope")));
    assertThat(noBranch.getStatus().getCode()).isEqualTo(Code.NOT_FOUND_VALUE);
  }

  @Test
  void git_fileUrl_isRefusedByTheDefaultPolicy() throws Exception {
    Path repo = Files.createDirectories(dir.resolve("repo2"));
    try (Git git = Git.init().setDirectory(repo.toFile()).call()) {
      Files.writeString(repo.resolve("a.txt"), "x\n");
      git.add().addFilepattern(".").call();
      git.commit().setMessage("x").setAuthor("t", "t@example.com").setCommitter("t", "t@example.com")
          .setSign(false).call();
    }
    try (AssetHarness strict = new AssetHarness(dir.resolve("strict"), AssetConfig.defaults(), new AssetHarness.MutableClock())) {
      FetchDirectoryResponse r = strict.fetch.fetchDirectory(FetchDirectoryRequest.newBuilder()
          .addUris(repo.toUri().toString()).addQualifiers(FetchServiceTest.q("vcs.branch", "master")).build());
      assertThat(r.getStatus().getCode()).isEqualTo(Code.PERMISSION_DENIED_VALUE);
    }
  }

  @Test
  void concurrentIdenticalDirectoryFetches_downloadOnce() throws Exception {
    origin.serveSlowly("/slow.tar.gz", tarGz(sourceTree()), 300);
    try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
      List<java.util.concurrent.Future<FetchDirectoryResponse>> all = new java.util.ArrayList<>();
      for (int i = 0; i < 20; i++) {
        all.add(pool.submit(() -> fetchDir(FetchDirectoryRequest.newBuilder().addUris(origin.url("/slow.tar.gz")))));
      }
      for (var f : all) {
        assertThat(f.get().getStatus().getCode()).isZero();
      }
    }
    assertThat(origin.requests("/slow.tar.gz")).isEqualTo(1);
  }
}
