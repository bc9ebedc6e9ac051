package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class JsonTest {

  @Test
  void fields_areWrittenInOrder() {
    assertThat(new Json().field("a", "x").field("n", 42).field("s", 1.23456, 3).toString())
        .isEqualTo("{\"a\": \"x\", \"n\": 42, \"s\": 1.235}");
  }

  @Test
  void strings_areEscaped() {
    String nasty = "q\"b\\s/n\nr\rt\tnul\u0000bell\u0007 ü 😀 \u2028";
    assertThat(new Json().field("k", nasty).toString())
        .isEqualTo("{\"k\": \"q\\\"b\\\\s/n\\nr\\rt\\tnul\\u0000bell\\u0007 ü 😀 \\u2028\"}");
  }

  @Test
  void decimals_ignoreTheDefaultLocale() {
    java.util.Locale saved = java.util.Locale.getDefault();
    try {
      java.util.Locale.setDefault(java.util.Locale.GERMANY);
      assertThat(new Json().field("s", 0.5, 3).toString()).isEqualTo("{\"s\": 0.500}");
    } finally {
      java.util.Locale.setDefault(saved);
    }
  }

  @Test
  void emptyObject() {
    assertThat(new Json().toString()).isEqualTo("{}");
  }
}
