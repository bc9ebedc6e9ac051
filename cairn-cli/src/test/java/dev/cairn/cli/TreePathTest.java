package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.digest.Digest;
import org.junit.jupiter.api.Test;

class TreePathTest {

  private static final String HASH = "ab".repeat(32);

  @Test
  void parse_digestAlone_isTheRoot() {
    assertThat(TreePath.parse(HASH + "/97")).isEqualTo(new TreePath(new Digest(HASH, 97), ""));
  }

  @Test
  void parse_takesTheFirstTwoPartsAsTheDigest() {
    TreePath p = TreePath.parse(HASH + "/97/src/main/Foo.java");
    assertThat(p.root()).isEqualTo(new Digest(HASH, 97));
    assertThat(p.path()).isEqualTo("src/main/Foo.java");
  }

  @Test
  void parse_ignoresTrailingSlashes() {
    assertThat(TreePath.parse(HASH + "/97/").path()).isEmpty();
    assertThat(TreePath.parse(HASH + "/97/a/b//").path()).isEqualTo("a/b");
  }

  @Test
  void parse_acceptsNonAsciiNames() {
    assertThat(TreePath.parse(HASH + "/1/ünï/😀").path()).isEqualTo("ünï/😀");
  }

  @Test
  void parse_rejectsEmptyDotAndDotDotComponents() {
    for (String bad : new String[] {"/a//b", "/./a", "/a/..", "//a"}) {
      assertThatThrownBy(() -> TreePath.parse(HASH + "/97" + bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid tree path");
    }
  }

  @Test
  void parse_rejectsABadDigest() {
    assertThatThrownBy(() -> TreePath.parse("xyz/12/a")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TreePath.parse(HASH)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> TreePath.parse(HASH + "/-1")).isInstanceOf(IllegalArgumentException.class);
  }
}
