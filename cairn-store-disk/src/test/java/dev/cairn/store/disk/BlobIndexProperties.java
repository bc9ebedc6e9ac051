package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/** The compact index behaves like a LinkedHashMap in access order, and LRU stays in its limit. */
class BlobIndexProperties {

  record Op(int kind, int key) {}

  @Provide
  Arbitrary<List<Op>> ops() {
    return Arbitraries.integers().between(0, 3).flatMap(kind ->
        Arbitraries.integers().between(0, 60).map(key -> new Op(kind, key))).list().ofMaxSize(400);
  }

  private static Digest key(int k) {
    // Pairs of keys share a hash and differ in size, so equality must include the size.
    return new Digest(DigestFunction.SHA256.digestOf(new byte[] {(byte) (k / 2)}).hash(), k);
  }

  @Property(tries = 300)
  void index_matchesAccessOrderedMapModel(@ForAll("ops") List<Op> ops) {
    BlobIndex index = new BlobIndex(4); // tiny, to force growth
    LinkedHashMap<Digest, Boolean> model = new LinkedHashMap<>(16, 0.75f, true);
    for (Op op : ops) {
      Digest d = key(op.key());
      switch (op.kind()) {
        case 0 -> assertThat(index.add(d)).isEqualTo(model.put(d, true) == null);
        case 1 -> assertThat(index.remove(d)).isEqualTo(model.remove(d) != null);
        case 2 -> assertThat(index.touch(d)).isEqualTo(model.get(d) != null);
        default -> {
          Digest oldest = index.oldest();
          Digest modelOldest = model.isEmpty() ? null : model.keySet().iterator().next();
          assertThat(oldest).isEqualTo(modelOldest);
        }
      }
      assertThat(index.count()).isEqualTo(model.size());
      assertThat(index.bytes()).isEqualTo(model.keySet().stream().mapToLong(Digest::sizeBytes).sum());
    }
    List<Digest> order = new ArrayList<>();
    index.forEachOldestFirst(order::add);
    assertThat(order).containsExactlyElementsOf(model.keySet());
    for (Digest d : model.keySet()) {
      assertThat(index.contains(d)).isTrue();
    }
  }

  @Property(tries = 50)
  void lru_neverAboveItsLimit(
      @ForAll @Size(max = 200) List<@IntRange(min = 0, max = 5000) Integer> sizes,
      @ForAll @IntRange(min = 5000, max = 20000) int limit) throws Exception {
    java.nio.file.Path root = java.nio.file.Files.createTempDirectory("lru");
    try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(root).withMaxSize(limit))) {
      int seed = 0;
      for (int size : sizes) {
        byte[] data = new byte[size];
        new java.util.Random(seed++).nextBytes(data);
        Digest d = store.put(data);
        assertThat(store.stats().bytesUsed()).isLessThanOrEqualTo(limit);
        assertThat(store.contains(d)).as("the blob just put is kept").isTrue();
      }
    } finally {
      try (var paths = java.nio.file.Files.walk(root)) {
        paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }
}
