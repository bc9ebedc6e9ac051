package dev.cairn.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.MessageDigest;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class SriTest {
  @Test
  void parse_picksTheStrongestAlgorithm() throws Exception {
    byte[] data = "x".getBytes();
    String s256 = "sha256-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-256").digest(data));
    String s384 = "sha384-" + Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-384").digest(data));
    Sri sri = Sri.parse(s256 + " " + s384 + "?opt");
    assertThat(sri.algorithm()).isEqualTo("sha384");
    assertThat(sri.matches(MessageDigest.getInstance("SHA-384").digest(data))).isTrue();
    assertThat(sri.matches(MessageDigest.getInstance("SHA-384").digest("y".getBytes()))).isFalse();
  }

  @Test
  void parse_rejectsUnknownAlgorithmsBadBase64AndWrongLengths() {
    assertThatThrownBy(() -> Sri.parse("md5-AAAA")).hasMessageContaining("md5");
    assertThatThrownBy(() -> Sri.parse("sha256-!!!")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Sri.parse("sha256-AAAA")).hasMessageContaining("32 bytes");
    assertThatThrownBy(() -> Sri.parse("  ")).hasMessageContaining("empty");
    assertThatThrownBy(() -> Sri.parse("sha256")).hasMessageContaining("<alg>-<base64>");
  }
}
