package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceRequestTest {

  private static final String TOKEN = "ab".repeat(32);

  private static ServiceRequest read(byte[] bytes) throws IOException {
    return ServiceRequest.read(new ByteArrayInputStream(bytes));
  }

  private static byte[] fields(String... fields) {
    StringBuilder b = new StringBuilder();
    for (String f : fields) {
      b.append(f).append('\0');
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void read_returnsWhatEncodeWrote_includingEmptyAndNonAsciiFields() throws IOException {
    ServiceRequest request = new ServiceRequest(TOKEN, "/home/ä b",
        Map.of("HOME", "/home/ä b", "XDG_CACHE_HOME", ""),
        List.of("--store", "s", "mount", "", "mnt 😀/x"));

    assertThat(read(request.encode())).isEqualTo(request);
  }

  @Test
  void read_acceptsWhatTheLaunchersPrintfSends() throws IOException {
    // printf '%s\0' cairn-service-1 "$token" "$PWD" "${#env[@]}" "${env[@]}" "$#" "$@"
    ServiceRequest r = read(fields("cairn-service-1", TOKEN, "/w", "1", "HOME=/h", "3", "mount", "d",
        "m"));

    assertThat(r.cwd()).isEqualTo("/w");
    assertThat(r.env()).isEqualTo(Map.of("HOME", "/h"));
    assertThat(r.args()).containsExactly("mount", "d", "m");
  }

  @Test
  void read_rejectsEveryTruncation() {
    byte[] whole = new ServiceRequest(TOKEN, "/w", Map.of("HOME", "/h"), List.of("mount", "d", "m"))
        .encode();
    for (int n = 0; n < whole.length; n++) {
      byte[] prefix = Arrays.copyOf(whole, n);
      assertThatThrownBy(() -> read(prefix)).as("first %d bytes", n)
          .isInstanceOf(ServiceRequest.MalformedException.class)
          .hasMessageContaining("truncated");
    }
  }

  @Test
  void read_rejectsARequestOverTheLimit_withoutReadingItAll() {
    String big = "x".repeat(ServiceRequest.MAX_BYTES);
    byte[] bytes = new ServiceRequest(TOKEN, "/w", Map.of(), List.of("mount", big)).encode();

    assertThatThrownBy(() -> read(bytes))
        .isInstanceOf(ServiceRequest.MalformedException.class)
        .hasMessageContaining("larger than 65536 bytes");
  }

  @Test
  void read_rejectsAMissingToken_asABadCount() {
    // the token left out: the cwd takes its place, and "1" is read as the cwd
    byte[] bytes = fields("cairn-service-1", "/w", "1", "HOME=/h", "1", "mount");

    assertThatThrownBy(() -> read(bytes))
        .isInstanceOf(ServiceRequest.MalformedException.class)
        .hasMessageContaining("environment count 'HOME=/h' is not a number");
  }

  @Test
  void read_rejectsOtherProtocols_badCounts_badEnvironmentEntries_andNonUtf8() {
    assertThatThrownBy(() -> read("GET / HTTP/1.1\r\n\r\n\0".getBytes(StandardCharsets.US_ASCII)))
        .hasMessageContaining("not a cairn mount request");
    assertThatThrownBy(() -> read(fields("cairn-service-1", TOKEN, "/w", "-1")))
        .hasMessageContaining("environment count '-1'");
    assertThatThrownBy(() -> read(fields("cairn-service-1", TOKEN, "/w", "0", "99999")))
        .hasMessageContaining("argument count '99999'");
    assertThatThrownBy(() -> read(fields("cairn-service-1", TOKEN, "/w", "1", "=x", "0")))
        .hasMessageContaining("is not NAME=VALUE");
    byte[] latin1 = fields("cairn-service-1", TOKEN, "/w", "0", "1", "x");
    latin1[latin1.length - 2] = (byte) 0xe9;
    assertThatThrownBy(() -> read(latin1)).hasMessageContaining("not UTF-8");
  }

  @Test
  void reply_isFourNulEndedFields_withNulsDropped() {
    byte[] reply = ServiceRequest.reply("p".repeat(64), "2", "out\n", "err\0or\n");

    assertThat(new String(reply, StandardCharsets.UTF_8))
        .isEqualTo("p".repeat(64) + "\u00002\u0000out\n\u0000error\n\u0000");
  }

  @Test
  void parseLinger_takesSecondsOrAUnit_andRejectsTheRest() {
    assertThat(StoreService.parseLinger("0")).isZero();
    assertThat(StoreService.parseLinger("90")).hasSeconds(90);
    assertThat(StoreService.parseLinger("500ms")).hasMillis(500);
    assertThat(StoreService.parseLinger("5m")).hasMinutes(5);
    assertThat(StoreService.parseLinger("2h")).hasHours(2);
    assertThatThrownBy(() -> StoreService.parseLinger("soon"))
        .hasMessageContaining("CAIRN_SERVICE_LINGER");
    assertThatThrownBy(() -> StoreService.parseLinger("-1s"))
        .hasMessageContaining("got '-1s'");
  }
}
