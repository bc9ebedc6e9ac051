package dev.cairn.core.tree;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

class NameProperties {

  @Provide
  Arbitrary<String> names() {
    // Mix ASCII, BMP characters above the surrogate range and supplementary code points.
    Arbitrary<Integer> codePoints = Arbitraries.oneOf(
        Arbitraries.integers().between(0x21, 0x7e),
        Arbitraries.integers().between(0xe000, 0xfffd),
        Arbitraries.integers().between(0x10000, 0x10ffff));
    return codePoints.list().ofMinSize(1).ofMaxSize(6).map(cps -> {
      StringBuilder b = new StringBuilder();
      cps.forEach(b::appendCodePoint);
      return b.toString().replace("/", "x");
    }).filter(Name::isValid);
  }

  @Property(tries = 2000)
  void utf8Order_equalsByteOrderOfEncoding(@ForAll("names") String a, @ForAll("names") String b) {
    int expected = Integer.signum(Arrays.compareUnsigned(
        a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8)));
    assertThat(Integer.signum(Name.compareUtf8(a, b))).isEqualTo(expected);
  }

  @Test
  void utf8Order_differsFromUtf16_outsideTheBmp() {
    String emoji = "\uD83D\uDE00"; // U+1F600
    String replacement = "\uFFFD";
    assertThat(emoji.compareTo(replacement)).isNegative(); // UTF-16 order
    assertThat(Name.compareUtf8(emoji, replacement)).isPositive(); // UTF-8 order
  }

  @Test
  void invalidNames_areRejected() {
    for (String bad : new String[] {"", ".", "..", "a/b", "/", "a\0b", "\uD800"}) {
      assertThatThrownBy(() -> new Name(bad)).isInstanceOf(IllegalArgumentException.class);
    }
    assertThat(new Name("...").value()).isEqualTo("...");
    assertThat(new Name(".hidden").value()).isEqualTo(".hidden");
  }
}
