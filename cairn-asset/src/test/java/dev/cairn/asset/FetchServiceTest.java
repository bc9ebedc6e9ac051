package dev.cairn.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.asset.v1.FetchBlobRequest;
import build.bazel.remote.asset.v1.FetchBlobResponse;
import build.bazel.remote.asset.v1.FetchDirectoryRequest;
import build.bazel.remote.asset.v1.PushBlobRequest;
import build.bazel.remote.asset.v1.PushDirectoryRequest;
import build.bazel.remote.asset.v1.Qualifier;
import com.google.protobuf.Timestamp;
import com.google.rpc.BadRequest;
import com.google.rpc.Code;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** FetchBlob through the real gRPC service, against a real HTTP origin on loopback. */
class FetchServiceTest {
  @TempDir Path dir;
  private TestOrigin origin;
  private AssetHarness.MutableClock clock;
  private AssetHarness asset;

  private static final byte[] CONTENT = "the source tarball, more or less\n".getBytes(StandardCharsets.UTF_8);

  @BeforeEach
  void start() throws Exception {
    origin = new TestOrigin();
    clock = new AssetHarness.MutableClock();
    asset = new AssetHarness(dir, AssetHarness.allowPrivate(), clock);
  }

  @AfterEach
  void stop() throws Exception {
    asset.close();
    origin.close();
  }

  static FetchBlobRequest.Builder blob(String... uris) {
    return FetchBlobRequest.newBuilder().addAllUris(List.of(uris));
  }

  static Qualifier q(String name, String value) {
    return Qualifier.newBuilder().setName(name).setValue(value).build();
  }

  static String sri(String alg, String jdkName, byte[] content) throws Exception {
    return alg + "-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance(jdkName).digest(content));
  }

  private Digest digestOf(byte[] b) {
    return DigestFunction.SHA256.digestOf(b);
  }

  @Test
  void fetchBlob_storesTheBodyAndAnswersItsDigest() throws Exception {
    origin.serve("/a.tar.gz", CONTENT);
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/a.tar.gz")).build());
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(digestOf(CONTENT));
    assertThat(r.getUri()).isEqualTo(origin.url("/a.tar.gz"));
    assertThat(r.getDigestFunction()).isEqualTo(build.bazel.remote.execution.v2.DigestFunction.Value.SHA256);
    assertThat(asset.cas.get(digestOf(CONTENT))).isEqualTo(CONTENT);
    assertThat(origin.lastHeaders.get("/a.tar.gz").getFirst("User-Agent")).startsWith("cairn");
    // Asked again: answered from the index, the origin is not asked.
    FetchBlobResponse again = asset.fetch.fetchBlob(blob(origin.url("/a.tar.gz")).build());
    assertThat(again.getBlobDigest()).isEqualTo(r.getBlobDigest());
    assertThat(origin.requests("/a.tar.gz")).isEqualTo(1);
  }

  @Test
  void sri_matchingSha256Sha384Sha512_isAccepted() throws Exception {
    origin.serve("/f", CONTENT);
    for (String sri : List.of(sri("sha256", "SHA-256", CONTENT), sri("sha384", "SHA-384", CONTENT),
        sri("sha512", "SHA-512", CONTENT),
        // the strongest algorithm decides; the weaker wrong one is ignored
        "sha256-" + Base64.getEncoder().encodeToString(new byte[32]) + " " + sri("sha512", "SHA-512", CONTENT))) {
      FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("checksum.sri", sri)).build());
      assertThat(r.getStatus().getCode()).as(sri + ": " + r.getStatus().getMessage()).isZero();
      assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(digestOf(CONTENT));
    }
  }

  @Test
  void sri_mismatch_isAbortedAndNothingIsCachedOrIndexed() throws Exception {
    byte[] other = "something else".getBytes(StandardCharsets.UTF_8);
    origin.serve("/f", CONTENT);
    String wrong = sri("sha256", "SHA-256", other);
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("checksum.sri", wrong)).build());
    assertThat(r.getStatus().getCode()).isEqualTo(Code.ABORTED_VALUE);
    assertThat(r.getStatus().getMessage()).contains("checksum.sri mismatch").contains(wrong)
        .contains(sri("sha256", "SHA-256", CONTENT));
    assertThat(asset.cas.contains(digestOf(CONTENT))).isFalse();
    assertThat(asset.index.size()).isZero();
    try (var files = Files.list(dir.resolve("store/asset/work/downloads"))) {
      assertThat(files).isEmpty();
    }
    // Not cached: the next request goes to the origin again.
    asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("checksum.sri", wrong)).build());
    assertThat(origin.requests("/f")).isEqualTo(2);
  }

  @Test
  void invalidSri_isInvalidArgument() {
    origin.serve("/f", CONTENT);
    assertThatThrownBy(() -> asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("checksum.sri", "md5-xyz")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("md5");
        });
    assertThat(origin.requests("/f")).isZero();
  }

  @Test
  void mirrors_404OnTheFirst_thenTheSecondAnswers() {
    origin.serve("/mirror2/f", CONTENT);
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/mirror1/f"), origin.url("/mirror2/f")).build());
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(r.getUri()).isEqualTo(origin.url("/mirror2/f"));
    assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(digestOf(CONTENT));
    assertThat(origin.requests("/mirror1/f")).isEqualTo(1);
    // Recorded under both URIs: asking by the first one alone is answered from the index.
    FetchBlobResponse byFirst = asset.fetch.fetchBlob(blob(origin.url("/mirror1/f")).build());
    assertThat(byFirst.getStatus().getCode()).isZero();
    assertThat(origin.requests("/mirror1/f")).isEqualTo(1);
  }

  @Test
  void allMirrorsFail_notFoundNamingEach() {
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/x"), origin.url("/y")).build());
    assertThat(r.getStatus().getCode()).isEqualTo(Code.NOT_FOUND_VALUE);
    assertThat(r.getStatus().getMessage()).contains(origin.url("/x") + ": HTTP 404").contains(origin.url("/y") + ": HTTP 404");
  }

  @Test
  void redirect_isFollowed() {
    origin.serve("/real", CONTENT).redirect("/moved", "/real");
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/moved")).build());
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(digestOf(CONTENT));
  }

  @Test
  void redirectToMetadataAddress_isRefused_evenWithPrivateAllowed() {
    origin.redirect("/evil", "http://169.254.169.254/latest/meta-data/");
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/evil")).build());
    assertThat(r.getStatus().getCode()).isEqualTo(Code.PERMISSION_DENIED_VALUE);
    assertThat(r.getStatus().getMessage()).contains("169.254.169.254").contains("metadata");
    origin.redirect("/evil6", "http://[fd00:ec2::254]/latest/");
    FetchBlobResponse r6 = asset.fetch.fetchBlob(blob(origin.url("/evil6")).build());
    assertThat(r6.getStatus().getCode()).isEqualTo(Code.PERMISSION_DENIED_VALUE);
  }

  @Test
  void redirectToAnotherOrigin_isCheckedByThePolicyOnEveryHop() throws Exception {
    // A policy that admits only the first origin's port: the redirect's target is judged too.
    try (TestOrigin other = new TestOrigin()) {
      other.serve("/f", CONTENT);
      int allowed = origin.port();
      OriginPolicy onlyFirst = uri -> {
        if (uri.getPort() != allowed) {
          throw new OriginRefusedException(uri.toString(), "refusing " + uri);
        }
      };
      try (AssetHarness strict = new AssetHarness(dir.resolve("strict"), AssetHarness.allowPrivate(), clock, onlyFirst)) {
        origin.redirect("/go", other.url("/f"));
        FetchBlobResponse r = strict.fetch.fetchBlob(blob(origin.url("/go")).build());
        assertThat(r.getStatus().getCode()).isEqualTo(Code.PERMISSION_DENIED_VALUE);
        assertThat(other.requests("/f")).isZero();
      }
    }
  }

  @Test
  void defaultPolicy_refusesALoopbackOrigin() throws Exception {
    origin.serve("/f", CONTENT);
    try (AssetHarness strict = new AssetHarness(dir.resolve("default"), AssetConfig.defaults(), clock)) {
      FetchBlobResponse r = strict.fetch.fetchBlob(blob(origin.url("/f")).build());
      assertThat(r.getStatus().getCode()).isEqualTo(Code.PERMISSION_DENIED_VALUE);
      assertThat(r.getStatus().getMessage()).contains("127.0.0.1").contains("loopback").contains("--asset-allow-private");
      assertThat(origin.requests("/f")).isZero();
    }
  }

  @Test
  void unsupportedQualifier_isInvalidArgumentNamingIt() {
    origin.serve("/f", CONTENT);
    assertThatThrownBy(() -> asset.fetch.fetchBlob(blob(origin.url("/f"))
        .addQualifiers(q("checksum.sri", "sha256-" + Base64.getEncoder().encodeToString(new byte[32])))
        .addQualifiers(q("frobnicate", "yes")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("\"frobnicate\"");
          com.google.rpc.Status detail = StatusProto.fromThrowable(e);
          try {
            BadRequest bad = detail.getDetails(0).unpack(BadRequest.class);
            assertThat(bad.getFieldViolations(0).getField()).isEqualTo("qualifiers.name");
            assertThat(bad.getFieldViolations(0).getDescription()).isEqualTo("\"frobnicate\" not supported");
          } catch (com.google.protobuf.InvalidProtocolBufferException x) {
            throw new AssertionError(x);
          }
        });
    assertThat(origin.requests("/f")).isZero();
  }

  @Test
  void duplicateQualifier_isInvalidArgument() {
    assertThatThrownBy(() -> asset.fetch.fetchBlob(blob("http://example.invalid/")
        .addQualifiers(q("resource_type", "a")).addQualifiers(q("resource_type", "b")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }

  @Test
  void emptyProbes_areInvalidArgument() {
    List<Runnable> probes = List.of(
        () -> asset.fetch.fetchBlob(FetchBlobRequest.getDefaultInstance()),
        () -> asset.fetch.fetchDirectory(FetchDirectoryRequest.getDefaultInstance()),
        () -> asset.push.pushBlob(PushBlobRequest.getDefaultInstance()),
        () -> asset.push.pushDirectory(PushDirectoryRequest.getDefaultInstance()));
    for (Runnable probe : probes) {
      assertThatThrownBy(probe::run).isInstanceOfSatisfying(StatusRuntimeException.class,
          e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }
  }

  @Test
  void timeout_stallingBody_isDeadlineExceededWithinTheTimeout() throws Exception {
    byte[] body = new byte[100_000];
    origin.serveStalling("/slow", body, 20_000);
    long start = System.nanoTime();
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/slow"))
        .setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(1)).build());
    long millis = (System.nanoTime() - start) / 1_000_000;
    assertThat(r.getStatus().getCode()).isEqualTo(Code.DEADLINE_EXCEEDED_VALUE);
    assertThat(millis).isBetween(900L, 8_000L);
    assertThat(asset.index.size()).isZero();
    try (var files = Files.list(dir.resolve("store/asset/work/downloads"))) {
      assertThat(files).as("the partial download is removed").isEmpty();
    }
  }

  @Test
  void timeout_slowHeaders_isDeadlineExceeded() {
    origin.serveSlowly("/slow", CONTENT, 20_000);
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/slow"))
        .setTimeout(com.google.protobuf.Duration.newBuilder().setNanos(500_000_000)).build());
    assertThat(r.getStatus().getCode()).isEqualTo(Code.DEADLINE_EXCEEDED_VALUE);
  }

  @Test
  void sizeLimit_byContentLengthAndWhileReading_isResourceExhausted() throws Exception {
    byte[] big = new byte[300_000];
    origin.serve("/big", big).serveChunked("/chunked", big);
    try (AssetHarness small = new AssetHarness(dir.resolve("small"),
        AssetHarness.allowPrivate().withMaxDownloadBytes(100_000), clock)) {
      for (String path : List.of("/big", "/chunked")) {
        FetchBlobResponse r = small.fetch.fetchBlob(blob(origin.url(path)).build());
        assertThat(r.getStatus().getCode()).as(path).isEqualTo(Code.RESOURCE_EXHAUSTED_VALUE);
        assertThat(r.getStatus().getMessage()).contains("100000").contains("asset-max-download-size");
      }
      assertThat(small.cas.contains(digestOf(big))).isFalse();
      try (var files = Files.list(dir.resolve("small/store/asset/work/downloads"))) {
        assertThat(files).isEmpty();
      }
    }
  }

  @Test
  void httpHeaders_generalToAll_perUrlOnlyToItsUri() {
    origin.serve("/m2", CONTENT);
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/m1"), origin.url("/m2"))
        .addQualifiers(q("http_header:X-Everyone", "all"))
        .addQualifiers(q("http_header_url:1:Authorization", "Bearer second")).build());
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(origin.lastHeaders.get("/m1").getFirst("X-Everyone")).isEqualTo("all");
    assertThat(origin.lastHeaders.get("/m1").getFirst("Authorization")).isNull();
    assertThat(origin.lastHeaders.get("/m2").getFirst("X-Everyone")).isEqualTo("all");
    assertThat(origin.lastHeaders.get("/m2").getFirst("Authorization")).isEqualTo("Bearer second");
  }

  @Test
  void headersAreNotSentToAnotherOriginAfterARedirect() throws Exception {
    try (TestOrigin other = new TestOrigin()) {
      other.serve("/f", CONTENT);
      origin.redirect("/go", other.url("/f"));
      FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/go"))
          .addQualifiers(q("http_header:Authorization", "Bearer secret")).build());
      assertThat(r.getStatus().getCode()).isZero();
      assertThat(origin.lastHeaders.get("/go").getFirst("Authorization")).isEqualTo("Bearer secret");
      assertThat(other.lastHeaders.get("/f").getFirst("Authorization")).isNull();
    }
  }

  @Test
  void canonicalId_isPartOfTheKey() {
    origin.serve("/f", CONTENT);
    asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("bazel.canonical_id", "v1")).build());
    asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("bazel.canonical_id", "v1")).build());
    assertThat(origin.requests("/f")).isEqualTo(1);
    asset.fetch.fetchBlob(blob(origin.url("/f")).addQualifiers(q("bazel.canonical_id", "v2")).build());
    assertThat(origin.requests("/f")).isEqualTo(2);
  }

  @Test
  void hundredConcurrentIdenticalFetches_causeOneOriginDownload() throws Exception {
    byte[] body = new byte[1 << 20];
    new java.util.Random(1).nextBytes(body);
    origin.serveSlowly("/popular", body, 300);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<FetchBlobResponse>> answers = new ArrayList<>();
    try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
      for (int i = 0; i < 100; i++) {
        answers.add(pool.submit(() -> {
          go.await();
          return asset.fetch.fetchBlob(blob(origin.url("/popular")).build());
        }));
      }
      go.countDown();
      for (Future<FetchBlobResponse> a : answers) {
        FetchBlobResponse r = a.get();
        assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isZero();
        assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(digestOf(body));
      }
    }
    assertThat(origin.requests("/popular")).isEqualTo(1);
  }

  @Test
  void indexSurvivesRestart_originNotAskedAgain() throws Exception {
    origin.serve("/f", CONTENT);
    asset.fetch.fetchBlob(blob(origin.url("/f")).build());
    asset.close();
    origin.close();
    asset = new AssetHarness(dir, AssetHarness.allowPrivate(), clock);
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/f")).build());
    assertThat(r.getStatus().getCode()).as(r.getStatus().getMessage()).isZero();
    assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(digestOf(CONTENT));
    origin = new TestOrigin();
  }

  @Test
  void evictedBlob_countsAsMissing_andIsFetchedAgain() throws Exception {
    origin.serve("/f", CONTENT);
    asset.fetch.fetchBlob(blob(origin.url("/f")).build());
    asset.cas.gc(0); // evict everything
    assertThat(asset.cas.contains(digestOf(CONTENT))).isFalse();
    FetchBlobResponse r = asset.fetch.fetchBlob(blob(origin.url("/f")).build());
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(origin.requests("/f")).isEqualTo(2);
    assertThat(asset.cas.get(digestOf(CONTENT))).isEqualTo(CONTENT);
  }

  @Test
  void oldestContentAccepted_newerThanTheEntry_refetches() {
    origin.serve("/f", CONTENT);
    asset.fetch.fetchBlob(blob(origin.url("/f")).build());
    java.time.Instant fetched = clock.instant();
    clock.advance(Duration.ofHours(1));
    // Older entries are fine when the client accepts them...
    asset.fetch.fetchBlob(blob(origin.url("/f")).setOldestContentAccepted(ts(fetched)).build());
    assertThat(origin.requests("/f")).isEqualTo(1);
    // ...and refetched when it does not.
    asset.fetch.fetchBlob(blob(origin.url("/f")).setOldestContentAccepted(ts(fetched.plusSeconds(1))).build());
    assertThat(origin.requests("/f")).isEqualTo(2);
  }

  static Timestamp ts(java.time.Instant i) {
    return Timestamp.newBuilder().setSeconds(i.getEpochSecond()).setNanos(i.getNano()).build();
  }

  @Test
  void nonHttpUriNotInTheIndex_isANotFoundCallError_asBuildStreamExpects() {
    assertThatThrownBy(() -> asset.fetch.fetchBlob(blob("urn:example:nothing").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(e.getStatus().getDescription()).contains("urn:example:nothing");
        });
    // Also with qualifiers Cairn does not implement: only pushed content could match them.
    assertThatThrownBy(() -> asset.fetch.fetchBlob(blob("urn:example:nothing").addQualifiers(q("my.own", "x")).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  @Test
  void instanceNames_partitionTheIndex() {
    origin.serve("/f", CONTENT);
    asset.fetch.fetchBlob(blob(origin.url("/f")).setInstanceName("team/a").build());
    asset.fetch.fetchBlob(blob(origin.url("/f")).setInstanceName("team/a").build());
    assertThat(origin.requests("/f")).isEqualTo(1);
    asset.fetch.fetchBlob(blob(origin.url("/f")).setInstanceName("team/b").build());
    assertThat(origin.requests("/f")).isEqualTo(2);
  }

  @Test
  void staleDownloads_areRemoved_freshOnesKept() throws Exception {
    Path downloads = Files.createDirectories(dir.resolve("store/asset/work/downloads"));
    Path stale = Files.writeString(downloads.resolve("fetch-1.part"), "half");
    Files.setLastModifiedTime(stale, java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(Duration.ofHours(2))));
    Path fresh = Files.writeString(downloads.resolve("fetch-2.part"), "in progress");
    assertThat(asset.resolver.removeStaleDownloads(Duration.ofHours(1))).isEqualTo(1);
    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();
  }

  @Test
  void headerValues_keyTheIndex_butAreNotWrittenToIt() throws Exception {
    origin.serve("/private", CONTENT);
    asset.fetch.fetchBlob(blob(origin.url("/private")).addQualifiers(q("http_header:Authorization", "Bearer s3cret-token")).build());
    asset.fetch.fetchBlob(blob(origin.url("/private")).addQualifiers(q("http_header:Authorization", "Bearer s3cret-token")).build());
    assertThat(origin.requests("/private")).isEqualTo(1);
    asset.fetch.fetchBlob(blob(origin.url("/private")).addQualifiers(q("http_header:Authorization", "Bearer other")).build());
    assertThat(origin.requests("/private")).isEqualTo(2);
    try (var files = Files.walk(dir.resolve("store/asset/index"))) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        assertThat(Files.readString(f, StandardCharsets.ISO_8859_1)).doesNotContain("s3cret").contains("http_header\\:Authorization");
      }
    }
  }
}
