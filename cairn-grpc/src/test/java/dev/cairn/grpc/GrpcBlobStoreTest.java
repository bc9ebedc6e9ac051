package dev.cairn.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.testing.BlobStoreContractTest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BlobStore contract, through gRPC, against the real services over disk stores. */
class GrpcBlobStoreTest extends BlobStoreContractTest {
  @TempDir Path dir;
  private InProcessCairn cairn;

  @Override
  protected BlobStore newStore() throws IOException {
    cairn = new InProcessCairn(dir.resolve("server"));
    return new GrpcBlobStore(cairn.channel, "", DigestFunction.SHA256);
  }

  @AfterEach
  void stopServer() throws IOException {
    cairn.close();
  }

  @Test
  void largeBlob_goesThroughByteStream_andLandsInTheServerStore() throws IOException {
    byte[] data = randomBytes(5 * 1024 * 1024 + 3, 100);
    Digest d = digestOf(data);
    store.put(d, new ByteArrayInputStream(data));
    assertThat(cairn.sha256.get(d)).isEqualTo(data);
    try (InputStream in = store.openRead(d, 5 * 1024 * 1024)) {
      assertThat(in.readAllBytes()).hasSize(3);
    }
    try (var uploads = Files.list(cairn.uploads.directory())) {
      assertThat(uploads).as("finished uploads leave no partial file").isEmpty();
    }
  }

  @Test
  void blake3_usesItsOwnStore() throws IOException {
    try (GrpcBlobStore blake = new GrpcBlobStore(cairn.channel, "ci/main", DigestFunction.BLAKE3)) {
      byte[] small = randomBytes(1000, 101);
      byte[] big = randomBytes(2 * 1024 * 1024, 102);
      Digest ds = blake.put(small);
      Digest db = DigestFunction.BLAKE3.digestOf(big);
      blake.put(db, new ByteArrayInputStream(big));
      assertThat(cairn.blake3.get(ds)).isEqualTo(small);
      assertThat(blake.get(db)).isEqualTo(big);
      assertThat(cairn.sha256.contains(ds)).isFalse();
    }
  }

  @Test
  void importThroughTheServer_givesTheSameTreeAsLocally() throws IOException {
    Path src = dir.resolve("src");
    for (int i = 0; i < 600; i++) {
      Path f = src.resolve("d" + (i % 7)).resolve("f" + i);
      Files.createDirectories(f.getParent());
      Files.write(f, randomBytes(i % 3 == 0 ? 300_000 : 500 + i, 200 + i));
    }
    var remote = new dev.cairn.core.tree.MerkleTreeBuilder(store).build(src);
    var local = new dev.cairn.core.tree.MerkleTreeBuilder(new dev.cairn.core.blob.InMemoryBlobStore()).build(src);
    assertThat(remote.root()).isEqualTo(local.root());
    assertThat(remote.blobsStored()).isEqualTo(600 + 8);
    Path out = dir.resolve("out");
    new dev.cairn.core.tree.TreeExporter(cairn.sha256).export(remote.root(), out);
    assertThat(Files.readAllBytes(out.resolve("d3/f598"))).isEqualTo(Files.readAllBytes(src.resolve("d3/f598")));
    assertThat(new dev.cairn.core.tree.MerkleTreeBuilder(store).build(src).blobsStored()).isZero();
  }

  @Test
  void closingAReadEarly_cancelsIt() throws IOException {
    byte[] data = randomBytes(8 * 1024 * 1024, 103);
    Digest d = digestOf(data);
    store.put(d, new ByteArrayInputStream(data));
    for (int i = 0; i < 20; i++) {
      try (InputStream in = store.openRead(d, 0)) {
        assertThat(in.readNBytes(10)).hasSize(10);
      }
    }
  }
}
