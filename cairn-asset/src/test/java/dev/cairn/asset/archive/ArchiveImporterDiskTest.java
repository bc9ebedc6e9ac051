package dev.cairn.asset.archive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.TreeExporter;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The importer over the real disk store: large entries are spooled and handed over with putFile. */
class ArchiveImporterDiskTest {
  @TempDir Path tmp;

  @Test
  void importArchive_intoADiskStore_storesEveryBlob_andLeavesNoScratchFiles() throws Exception {
    byte[] big = new byte[5 << 20];
    new Random(3).nextBytes(big);
    Path archive = tmp.resolve("a.tar.gz");
    try (OutputStream gz = new GzipCompressorOutputStream(Files.newOutputStream(archive));
        TarArchiveOutputStream out = new TarArchiveOutputStream(gz)) {
      for (int i = 0; i < 3; i++) { // the same large content three times: stored once
        TarArchiveEntry e = new TarArchiveEntry("big/copy-" + i + ".bin");
        e.setSize(big.length);
        out.putArchiveEntry(e);
        out.write(big);
        out.closeArchiveEntry();
      }
      for (int i = 0; i < 200; i++) {
        byte[] small = ("small " + i + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry("small/" + (i % 7) + "/f" + i);
        e.setSize(small.length);
        e.setMode(i % 3 == 0 ? 0100755 : 0100644);
        out.putArchiveEntry(e);
        out.write(small);
        out.closeArchiveEntry();
      }
    }
    Path scratch = Files.createDirectories(tmp.resolve("store-fs/scratch"));
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(tmp.resolve("store-fs/store")))) {
      Digest root = new ArchiveImporter(store, DigestFunction.SHA256, ArchiveLimits.defaults(), scratch)
          .importArchive(archive, ArchiveFormat.TAR_GZ);

      Digest bigDigest = DigestFunction.SHA256.digestOf(big);
      assertThat(store.pathOf(bigDigest)).isPresent();
      assertThat(Files.readAllBytes(store.pathOf(bigDigest).orElseThrow())).isEqualTo(big);
      assertThat(scratch).isEmptyDirectory();

      Path exported = tmp.resolve("exported");
      new TreeExporter(store).export(root, exported);
      Path extracted = Files.createDirectories(tmp.resolve("extracted"));
      Process tar = new ProcessBuilder("tar", "-xzf", archive.toString(), "-C", extracted.toString())
          .inheritIO().start();
      assertThat(tar.waitFor()).isZero();
      try (DiskBlobStore other = DiskBlobStore.open(DiskStoreConfig.at(tmp.resolve("other")))) {
        assertThat(new MerkleTreeBuilder(other).build(extracted).root()).isEqualTo(root);
        assertThat(new MerkleTreeBuilder(other).build(exported).root()).isEqualTo(root);
      }
    }
  }
}
