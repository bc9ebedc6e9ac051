package dev.cairn.asset;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AssetIndexTest {
  @TempDir Path dir;
  private final AssetHarness.MutableClock clock = new AssetHarness.MutableClock();

  private static AssetKey key(String uri, Map<String, String> q) {
    return AssetKey.of(AssetKey.Kind.BLOB, "", DigestFunction.SHA256, uri, q);
  }

  private AssetEntry entry(String content) {
    return new AssetEntry(DigestFunction.SHA256.digestOf(content.getBytes()), clock.instant(), Optional.empty());
  }

  @Test
  void key_ignoresQualifierOrder_butNotValuesKindOrInstance() {
    AssetKey a = key("u", Map.of("a", "1", "b", "2"));
    AssetKey b = AssetKey.of(AssetKey.Kind.BLOB, "", DigestFunction.SHA256, "u",
        new java.util.LinkedHashMap<>(Map.of("b", "2", "a", "1")));
    assertThat(a.hash()).isEqualTo(b.hash());
    assertThat(key("u", Map.of("a", "1", "b", "3")).hash()).isNotEqualTo(a.hash());
    assertThat(AssetKey.of(AssetKey.Kind.DIRECTORY, "", DigestFunction.SHA256, "u", Map.of("a", "1", "b", "2")).hash())
        .isNotEqualTo(a.hash());
    assertThat(AssetKey.of(AssetKey.Kind.BLOB, "i", DigestFunction.SHA256, "u", Map.of("a", "1", "b", "2")).hash())
        .isNotEqualTo(a.hash());
    // Length prefixes: moving a boundary changes the key.
    assertThat(key("u", Map.of("ab", "c")).hash()).isNotEqualTo(key("u", Map.of("a", "bc")).hash());
  }

  @Test
  void entries_surviveReopen_withKeyAndAllFields() throws Exception {
    AssetIndex index = AssetIndex.open(dir, clock, 10);
    AssetKey k = key("https://example.com/x.tgz", Map.of("checksum.sri", "sha256-abc", "weird\nname=", "v\u00e9"));
    AssetEntry e = new AssetEntry(Digest.parse("a".repeat(64) + "/5"), clock.instant(),
        Optional.of(clock.instant().plus(Duration.ofDays(1))));
    index.put(k, e);
    AssetIndex reopened = AssetIndex.open(dir, clock, 10);
    assertThat(reopened.size()).isEqualTo(1);
    assertThat(reopened.get(k)).contains(e);
  }

  @Test
  void lruBound_dropsTheLeastRecentlyUsed_onDiskToo() throws Exception {
    AssetIndex index = AssetIndex.open(dir, clock, 2);
    index.put(key("a", Map.of()), entry("a"));
    clock.advance(Duration.ofSeconds(1));
    index.put(key("b", Map.of()), entry("b"));
    clock.advance(Duration.ofSeconds(1));
    assertThat(index.get(key("a", Map.of()))).isPresent(); // a is now the most recent
    clock.advance(Duration.ofSeconds(1));
    index.put(key("c", Map.of()), entry("c"));
    assertThat(index.get(key("b", Map.of()))).isEmpty();
    assertThat(index.get(key("a", Map.of()))).isPresent();
    assertThat(index.get(key("c", Map.of()))).isPresent();
    try (var files = Files.walk(dir)) {
      assertThat(files.filter(Files::isRegularFile).count()).isEqualTo(2);
    }
    // The order survives a restart (file times), and a smaller bound trims at open.
    AssetIndex reopened = AssetIndex.open(dir, clock, 1);
    assertThat(reopened.size()).isEqualTo(1);
  }

  @Test
  void memoryIndex_isBoundedToo() throws Exception {
    AssetIndex index = AssetIndex.inMemory(clock, 1);
    index.put(key("a", Map.of()), entry("a"));
    index.put(key("b", Map.of()), entry("b"));
    assertThat(index.get(key("a", Map.of()))).isEmpty();
    assertThat(index.get(key("b", Map.of()))).isPresent();
  }

  @Test
  void damagedEntryFile_isAMissAndRemoved() throws Exception {
    AssetIndex index = AssetIndex.open(dir, clock, 10);
    AssetKey k = key("a", Map.of());
    index.put(k, entry("a"));
    String h = k.hash();
    Path file = dir.resolve(h.substring(0, 2)).resolve(h);
    Files.writeString(file, "digest=not-a-digest\n");
    assertThat(index.get(k)).isEmpty();
    assertThat(file).doesNotExist();
  }

  @Test
  void leftoverTempFiles_areRemovedAtOpen() throws Exception {
    Path shard = Files.createDirectories(dir.resolve("ab"));
    Path temp = Files.writeString(shard.resolve("ab" + "0".repeat(62) + ".123.tmp"), "half");
    AssetIndex.open(dir, clock, 10);
    assertThat(temp).doesNotExist();
  }
}
