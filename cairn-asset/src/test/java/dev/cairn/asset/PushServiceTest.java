package dev.cairn.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.asset.v1.FetchBlobRequest;
import build.bazel.remote.asset.v1.FetchBlobResponse;
import build.bazel.remote.asset.v1.FetchDirectoryRequest;
import build.bazel.remote.asset.v1.FetchDirectoryResponse;
import build.bazel.remote.asset.v1.PushBlobRequest;
import build.bazel.remote.asset.v1.PushDirectoryRequest;
import build.bazel.remote.asset.v1.Qualifier;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import com.google.rpc.Code;
import com.google.rpc.PreconditionFailure;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** PushBlob/PushDirectory through the real gRPC service, then Fetch of what was pushed. */
class PushServiceTest {
  @TempDir Path dir;
  private AssetHarness.MutableClock clock;
  private AssetHarness asset;

  static final String URN = "urn:fdc:buildstream.build:2020:v1:project/element.bst/0123abcd";

  @BeforeEach
  void start() throws Exception {
    clock = new AssetHarness.MutableClock();
    asset = new AssetHarness(dir, AssetHarness.allowPrivate(), clock);
  }

  @AfterEach
  void stop() throws Exception {
    asset.close();
  }

  private Digest put(String text) throws Exception {
    return asset.cas.put(text.getBytes(StandardCharsets.UTF_8));
  }

  /** A one-file tree, stored; returns its root digest. */
  private Digest tree(String content, boolean storeFile) throws Exception {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    Digest file = storeFile ? asset.cas.put(bytes) : DigestFunction.SHA256.digestOf(bytes);
    Directory root = Directory.newBuilder()
        .addFiles(FileNode.newBuilder().setName("a.txt").setDigest(file.toProto()).setIsExecutable(true))
        .build();
    return asset.cas.put(root.toByteArray());
  }

  private void assertNotFound(Runnable call) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
        e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
  }

  private FetchDirectoryResponse fetchDir(String... uris) {
    return asset.fetch.fetchDirectory(FetchDirectoryRequest.newBuilder().addAllUris(java.util.List.of(uris)).build());
  }

  @Test
  void pushDirectory_thenFetchDirectory_answersTheRoot() throws Exception {
    Digest root = tree("hello", true);
    asset.push.pushDirectory(PushDirectoryRequest.newBuilder().addUris(URN)
        .setRootDirectoryDigest(root.toProto()).build());
    FetchDirectoryResponse r = fetchDir(URN);
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(Digest.fromProto(r.getRootDirectoryDigest())).isEqualTo(root);
    assertThat(r.getUri()).isEqualTo(URN);
    // Directory and blob mappings are apart.
    assertNotFound(() -> asset.fetch.fetchBlob(FetchBlobRequest.newBuilder().addUris(URN).build()));
  }

  @Test
  void pushDirectory_withAFileMissing_isFailedPreconditionNamingIt() throws Exception {
    Digest root = tree("not uploaded", false);
    Digest file = DigestFunction.SHA256.digestOf("not uploaded".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> asset.push.pushDirectory(PushDirectoryRequest.newBuilder().addUris(URN)
        .setRootDirectoryDigest(root.toProto()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains(file.toString());
          try {
            PreconditionFailure pf = StatusProto.fromThrowable(e).getDetails(0).unpack(PreconditionFailure.class);
            assertThat(pf.getViolations(0).getType()).isEqualTo("MISSING");
            assertThat(pf.getViolations(0).getSubject()).isEqualTo("blobs/" + file.hash() + "/" + file.sizeBytes());
          } catch (com.google.protobuf.InvalidProtocolBufferException x) {
            throw new AssertionError(x);
          }
        });
    assertNotFound(() -> fetchDir(URN));
  }

  @Test
  void pushBlob_missing_isFailedPrecondition_present_isFetchable() throws Exception {
    Digest absent = DigestFunction.SHA256.digestOf(new byte[] {1, 2, 3});
    assertThatThrownBy(() -> asset.push.pushBlob(PushBlobRequest.newBuilder().addUris("urn:x:1")
        .setBlobDigest(absent.toProto()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION));
    Digest blob = put("content");
    Digest ref = put("referenced");
    asset.push.pushBlob(PushBlobRequest.newBuilder().addUris("urn:x:1").addUris("urn:x:2")
        .addQualifiers(Qualifier.newBuilder().setName("my.own").setValue("v"))
        .setBlobDigest(blob.toProto()).addReferencesBlobs(ref.toProto()).build());
    // Any one URI with the same qualifiers answers; a pushed custom qualifier is fine.
    FetchBlobResponse r = asset.fetch.fetchBlob(FetchBlobRequest.newBuilder().addUris("urn:x:0").addUris("urn:x:2")
        .addQualifiers(Qualifier.newBuilder().setName("my.own").setValue("v")).build());
    assertThat(r.getStatus().getCode()).isZero();
    assertThat(Digest.fromProto(r.getBlobDigest())).isEqualTo(blob);
    assertThat(r.getUri()).isEqualTo("urn:x:2");
    // Other qualifiers are another name.
    assertNotFound(() -> asset.fetch.fetchBlob(FetchBlobRequest.newBuilder().addUris("urn:x:1")
        .addQualifiers(Qualifier.newBuilder().setName("my.own").setValue("w")).build()));
  }

  @Test
  void pushBlob_referencedBlobMissing_isFailedPrecondition() throws Exception {
    Digest blob = put("content");
    Digest absent = DigestFunction.SHA256.digestOf(new byte[] {9});
    assertThatThrownBy(() -> asset.push.pushBlob(PushBlobRequest.newBuilder().addUris("urn:x:1")
        .setBlobDigest(blob.toProto()).addReferencesBlobs(absent.toProto()).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains(absent.toString());
        });
  }

  @Test
  void expireAt_isHonoured() throws Exception {
    Digest root = tree("expiring", true);
    asset.push.pushDirectory(PushDirectoryRequest.newBuilder().addUris(URN).setRootDirectoryDigest(root.toProto())
        .setExpireAt(FetchServiceTest.ts(clock.instant().plus(Duration.ofMinutes(10)))).build());
    FetchDirectoryResponse before = fetchDir(URN);
    assertThat(before.getStatus().getCode()).isZero();
    assertThat(before.getExpiresAt().getSeconds()).isEqualTo(clock.instant().plus(Duration.ofMinutes(10)).getEpochSecond());
    clock.advance(Duration.ofMinutes(11));
    assertNotFound(() -> fetchDir(URN));
    assertThat(asset.index.size()).isZero();
  }

  @Test
  void pushAgain_replacesTheMapping() throws Exception {
    Digest one = tree("one", true);
    Digest two = tree("two", true);
    asset.push.pushDirectory(PushDirectoryRequest.newBuilder().addUris(URN).setRootDirectoryDigest(one.toProto()).build());
    asset.push.pushDirectory(PushDirectoryRequest.newBuilder().addUris(URN).setRootDirectoryDigest(two.toProto()).build());
    assertThat(Digest.fromProto(fetchDir(URN).getRootDirectoryDigest())).isEqualTo(two);
  }

  @Test
  void evictedFileOfAPushedTree_makesTheMappingMissing() throws Exception {
    Digest root = tree("evict me", true);
    asset.push.pushDirectory(PushDirectoryRequest.newBuilder().addUris(URN).setRootDirectoryDigest(root.toProto()).build());
    asset.cas.gc(0);
    assertNotFound(() -> fetchDir(URN));
  }

  @Test
  void invalidDigest_isInvalidArgument() {
    assertThatThrownBy(() -> asset.push.pushBlob(PushBlobRequest.newBuilder().addUris("urn:x:1")
        .setBlobDigest(build.bazel.remote.execution.v2.Digest.newBuilder().setHash("xyz").setSizeBytes(1)).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
  }
}
