package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IndexScanTest {
  private static final String HASH = DigestFunction.SHA256.digestOf(new byte[] {1}).hash();
  private static final String SHARD = HASH.substring(0, 2);

  @TempDir Path cas;

  @Test
  void blobNames_parseToTheDigestTheStoreWrote() {
    assertThat(IndexScan.parse(HASH + "-0")).isEqualTo(new Digest(HASH, 0));
    assertThat(IndexScan.parse(HASH + "-1")).isEqualTo(new Digest(HASH, 1));
    assertThat(IndexScan.parse(HASH + "-" + Long.MAX_VALUE)).isEqualTo(new Digest(HASH, Long.MAX_VALUE));
  }

  @Test
  void namesTheStoreNeverWrites_areNotBlobs() {
    for (String name : List.of(
        HASH, HASH + "-", HASH + "--5", HASH + "-+5", HASH + "-05", HASH + "-5x", HASH + "-9223372036854775808",
        HASH + "-99999999999999999999", HASH.toUpperCase() + "-5", HASH.substring(1) + "-5",
        HASH + "0-5", HASH.substring(0, 63) + "g-5", HASH.substring(0, 63) + "\u0661-5", "x", "")) {
      assertThat(IndexScan.parse(name)).as(name).isNull();
    }
    long[] words = new long[4];
    String otherShard = SHARD.equals("00") ? "01" : "00";
    assertThat(IndexScan.blobName(HASH + "-5", otherShard, words)).isEqualTo(-1);
  }

  @Test
  void parsedWords_areTheIndexKey() {
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 1_000; i++) {
      digests.add(new Digest(DigestFunction.SHA256.digestOf(new byte[] {(byte) i, (byte) (i >> 8)}).hash(), i));
    }
    BlobIndex index = new BlobIndex(16);
    long[] words = new long[4];
    for (Digest d : digests) {
      assertThat(BlobIndex.parseHash(d.hash(), words)).isTrue();
      index.add(words[0], words[1], words[2], words[3], d.sizeBytes());
    }
    for (Digest d : digests) {
      assertThat(index.contains(d)).as(d.toString()).isTrue();
    }
    List<Digest> order = new ArrayList<>();
    index.forEachOldestFirst(order::add);
    assertThat(order).isEqualTo(digests);
  }

  @Test
  void scan_indexesEveryBlobFile_andLeavesStrangersAlone() throws IOException {
    List<Digest> stored = new ArrayList<>();
    for (int i = 0; i < 3_000; i++) {
      Digest d = new Digest(DigestFunction.SHA256.digestOf(new byte[] {(byte) i, (byte) (i >> 8)}).hash(), i);
      Path shard = Files.createDirectories(cas.resolve(d.hash().substring(0, 2)));
      Files.createFile(shard.resolve(d.hash() + "-" + i));
      stored.add(d);
    }
    Files.createFile(cas.resolve(SHARD).resolve("notes.txt"));
    Files.createFile(cas.resolve("stray"));
    Files.createDirectories(cas.resolve("abc"));

    BlobIndex index = IndexScan.scan(cas, 0);

    assertThat(index.count()).isEqualTo(stored.size());
    for (Digest d : stored) {
      assertThat(index.contains(d)).isTrue();
    }
    assertThat(Files.exists(cas.resolve(SHARD).resolve("notes.txt"))).isTrue();
  }
}
