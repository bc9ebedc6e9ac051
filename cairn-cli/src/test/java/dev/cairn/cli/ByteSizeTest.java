package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizeTest {

  @ParameterizedTest
  @CsvSource({
    "0, 0",
    "123, 123",
    "123B, 123",
    "10K, 10240",
    "10k, 10240",
    "10KB, 10240",
    "10KiB, 10240",
    "10 kib, 10240",
    "512MiB, 536870912",
    "512M, 536870912",
    "10G, 10737418240",
    "1.5GB, 1610612736",
    "1.5G, 1610612736",
    "0.5K, 512",
    "1.0001K, 1024",
    "2T, 2199023255552",
    "1P, 1125899906842624",
    "7E, 8070450532247928832",
    "' 42 ', 42",
    "2.0, 2"
  })
  void parse_acceptsBinaryMultiples(String text, long expected) {
    assertThat(ByteSize.parse(text)).isEqualTo(expected);
  }

  @ParameterizedTest
  @ValueSource(strings = {
    "", " ", "abc", "-1", "10X", "10KK", "10Kb5", "1e3", ".5K", "5.K", "1.2.3M", "1.5", "K",
    "10 G B", "8E", "99999999999999999999", "10KiBs"
  })
  void parse_rejectsGarbage(String text) {
    assertThatThrownBy(() -> ByteSize.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid size '" + text + "'");
  }

  @Test
  void parse_roundsFractionsWithAUnitToTheNearestByte() {
    assertThat(ByteSize.parse("1.1K")).isEqualTo(1126); // 1126.4
    assertThat(ByteSize.parse("0.0001K")).isZero();
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0 B",
    "1023, 1023 B",
    "1024, 1 KiB",
    "1536, 1.5 KiB",
    "10737418240, 10 GiB",
    "1610612736, 1.5 GiB",
    "123456789, 118 MiB",
    "1048575, 1 MiB",
    "9223372036854775807, 8 EiB"
  })
  void format_isShortAndBinary(long bytes, String expected) {
    assertThat(ByteSize.format(bytes)).isEqualTo(expected);
  }

  @Test
  void format_thenParse_staysClose() {
    for (long n : new long[] {1, 1000, 4096, 5_000_000, 3L << 30}) {
      long back = ByteSize.parse(ByteSize.format(n).replace(" ", ""));
      assertThat((double) Math.abs(back - n)).isLessThanOrEqualTo(n * 0.01);
    }
  }
}
