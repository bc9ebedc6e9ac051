package dev.cairn.core.digest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class DigestTest {
  private static final String EMPTY_SHA256 =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

  @Test
  void sha256_ofKnownInputs() {
    assertThat(DigestFunction.SHA256.emptyDigest()).isEqualTo(new Digest(EMPTY_SHA256, 0));
    assertThat(DigestFunction.SHA256.digestOf("abc".getBytes(StandardCharsets.US_ASCII)))
        .hasToString("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad/3");
  }

  @Test
  void blake3_ofKnownInputs() {
    // Published BLAKE3 test vectors.
    assertThat(DigestFunction.BLAKE3.emptyDigest().hash())
        .isEqualTo("af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262");
    assertThat(DigestFunction.BLAKE3.digestOf("abc".getBytes(StandardCharsets.US_ASCII)).hash())
        .isEqualTo("6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85");
  }

  @Test
  void hasher_sameResult_forBuffersArraysAndStreams() throws Exception {
    byte[] data = new byte[300_000];
    new java.util.Random(1).nextBytes(data);
    for (DigestFunction f : DigestFunction.values()) {
      Hasher h = f.newHasher();
      h.update(ByteBuffer.wrap(data, 0, 1000));
      ByteBuffer direct = ByteBuffer.allocateDirect(data.length - 1000);
      direct.put(data, 1000, data.length - 1000).flip();
      h.update(direct);
      Digest viaBuffers = h.finish();
      assertThat(viaBuffers).isEqualTo(f.digestOf(data));
      assertThat(f.digestOf(new java.io.ByteArrayInputStream(data))).isEqualTo(viaBuffers);
      assertThat(viaBuffers.sizeBytes()).isEqualTo(data.length);
    }
  }

  @Test
  void parse_roundTripsTextForm_andNormalizesCase() {
    Digest d = Digest.parse(EMPTY_SHA256.toUpperCase() + "/0");
    assertThat(d.hash()).isEqualTo(EMPTY_SHA256);
    assertThat(Digest.parse(d.toString())).isEqualTo(d);
    assertThat(Digest.fromProto(d.toProto())).isEqualTo(d);
  }

  @Test
  void invalidDigests_areRejectedWithTheReason() {
    assertThatThrownBy(() -> Digest.parse("abc")).hasMessageContaining("expected <hex-hash>/<size-in-bytes>");
    assertThatThrownBy(() -> Digest.parse(EMPTY_SHA256 + "/x")).hasMessageContaining("not a number");
    assertThatThrownBy(() -> Digest.parse(EMPTY_SHA256 + "/-1")).hasMessageContaining("negative");
    assertThatThrownBy(() -> Digest.parse("ab/12")).hasMessageContaining("64 hex characters");
    assertThatThrownBy(() -> new Digest(EMPTY_SHA256.replace('e', 'g'), 1)).hasMessageContaining("not lowercase hex");
    assertThatThrownBy(() -> Digest.parse("../../etc/passwd/1")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void digestFunction_parse() {
    assertThat(DigestFunction.parse("SHA-256")).isEqualTo(DigestFunction.SHA256);
    assertThat(DigestFunction.parse("blake3")).isEqualTo(DigestFunction.BLAKE3);
    assertThatThrownBy(() -> DigestFunction.parse("md5")).hasMessageContaining("sha256 or blake3");
  }
}
