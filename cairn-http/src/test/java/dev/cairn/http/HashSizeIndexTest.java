package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import org.junit.jupiter.api.Test;

class HashSizeIndexTest {
  private static Digest digest(char c, long size) {
    return new Digest(String.valueOf(c).repeat(64), size);
  }

  @Test
  void remembersSizes_andDropsTheLeastRecentlyUsedBeyondCapacity() {
    HashSizeIndex index = new HashSizeIndex(2);
    index.remember(digest('a', 1));
    index.remember(digest('b', 2));
    assertThat(index.find("a".repeat(64))).contains(digest('a', 1)); // a is now most recent
    index.remember(digest('c', 3));
    assertThat(index.size()).isEqualTo(2);
    assertThat(index.find("b".repeat(64))).isEmpty();
    assertThat(index.find("c".repeat(64))).contains(digest('c', 3));
  }

  @Test
  void forget_removesOnlyThatSize() {
    HashSizeIndex index = new HashSizeIndex(4);
    index.remember(digest('a', 1));
    index.forget(digest('a', 7));
    assertThat(index.find("a".repeat(64))).isPresent();
    index.forget(digest('a', 1));
    assertThat(index.find("a".repeat(64))).isEmpty();
  }
}
