package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.ac.ActionKey;
import dev.cairn.core.ac.CompletenessCheckingActionCache;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskActionCacheTest {
  @TempDir Path dir;
  private DiskBlobStore cas;
  private ActionCache ac;

  @BeforeEach
  void open() throws IOException {
    cas = DiskBlobStore.open(DiskStoreConfig.at(dir));
    ac = new CompletenessCheckingActionCache(new DiskActionCache(dir, cas), cas);
  }

  @AfterEach
  void close() throws IOException {
    cas.close();
  }

  private Digest blob(String content) throws IOException {
    return cas.put(content.getBytes(StandardCharsets.UTF_8));
  }

  private static ActionKey key(String instance, String action) {
    return new ActionKey(instance,
        dev.cairn.core.digest.DigestFunction.SHA256.digestOf(action.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void result_roundTrips_andInstancesArePartitions() throws IOException {
    Digest out = blob("output");
    byte[] result = ActionResult.newBuilder()
        .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(out.toProto()))
        .build().toByteArray();
    ac.put(key("", "a1"), result);
    assertThat(ac.get(key("", "a1"))).contains(result);
    assertThat(ac.get(key("other", "a1"))).isEmpty();
    assertThat(ac.get(key("", "a2"))).isEmpty();
  }

  @Test
  void resultWithEvictedOutput_isAMiss() throws IOException {
    Digest out = blob("will be evicted");
    byte[] result = ActionResult.newBuilder()
        .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(out.toProto()))
        .build().toByteArray();
    ac.put(key("", "a"), result);
    Digest resultBlob = cas.digestFunction().digestOf(result);
    cas.gc(resultBlob.sizeBytes()); // keeps only what fits: the result blob was used last
    assertThat(cas.findMissing(List.of(out, resultBlob))).containsExactly(out);
    assertThat(ac.get(key("", "a"))).isEmpty();
  }

  @Test
  void resultWithTreeMissingAFile_isAMiss() throws IOException {
    Digest present = blob("present");
    Digest absent = cas.digestFunction().digestOf("absent".getBytes(StandardCharsets.UTF_8));
    Tree tree = Tree.newBuilder()
        .setRoot(Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("a").setDigest(present.toProto()))
            .addFiles(FileNode.newBuilder().setName("b").setDigest(absent.toProto())))
        .build();
    Digest treeDigest = cas.put(tree.toByteArray());
    byte[] result = ActionResult.newBuilder()
        .addOutputDirectories(OutputDirectory.newBuilder().setPath("d").setTreeDigest(treeDigest.toProto()))
        .build().toByteArray();
    ac.put(key("", "t"), result);
    assertThat(ac.get(key("", "t"))).isEmpty();
    blob("absent");
    assertThat(ac.get(key("", "t"))).contains(result);
  }

  @Test
  void opaqueValues_likeCcacheRecords_passThrough() throws IOException {
    byte[] ccache = "cCrS\u0000\u0001 arbitrary ccache result bytes".getBytes(StandardCharsets.ISO_8859_1);
    ac.put(key("", "cc"), ccache);
    assertThat(ac.get(key("", "cc"))).contains(ccache);
  }

  @Test
  void replacingAResult_keepsTheLatest() throws IOException {
    ac.put(key("", "r"), "one".getBytes(StandardCharsets.UTF_8));
    ac.put(key("", "r"), "two".getBytes(StandardCharsets.UTF_8));
    assertThat(ac.get(key("", "r"))).hasValueSatisfying(v -> assertThat(new String(v, StandardCharsets.UTF_8)).isEqualTo("two"));
  }
}
