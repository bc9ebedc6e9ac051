package dev.cairn.fuse.flush;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class FlushPolicyTest {

  @Test
  void parse_acceptsEveryDocumentedForm() {
    assertThat(FlushPolicy.parse("on-unmount")).isEqualTo(new FlushPolicy.OnUnmount());
    assertThat(FlushPolicy.parse("on-close")).isEqualTo(new FlushPolicy.OnClose());
    assertThat(FlushPolicy.parse("interval:30s")).isEqualTo(new FlushPolicy.Interval(Duration.ofSeconds(30)));
    assertThat(FlushPolicy.parse("interval:5m")).isEqualTo(new FlushPolicy.Interval(Duration.ofMinutes(5)));
    assertThat(FlushPolicy.parse("interval:1h")).isEqualTo(new FlushPolicy.Interval(Duration.ofHours(1)));
    assertThat(FlushPolicy.parse("interval:PT30S")).isEqualTo(new FlushPolicy.Interval(Duration.ofSeconds(30)));
    assertThat(FlushPolicy.parse("idle:500ms")).isEqualTo(new FlushPolicy.Idle(Duration.ofMillis(500)));
    assertThat(FlushPolicy.parse("idle:pt1m30s")).isEqualTo(new FlushPolicy.Idle(Duration.ofSeconds(90)));
    assertThat(FlushPolicy.parse("idle:2d")).isEqualTo(new FlushPolicy.Idle(Duration.ofDays(2)));
  }

  @Test
  void toString_parsesBackToTheSamePolicy() {
    for (String text : List.of("on-unmount", "on-close", "interval:30s", "interval:5m", "idle:1h",
        "idle:2d", "idle:1500ms", "interval:90s")) {
      FlushPolicy p = FlushPolicy.parse(text);
      assertThat(p.toString()).isEqualTo(text);
      assertThat(FlushPolicy.parse(p.toString())).isEqualTo(p);
    }
    assertThat(new FlushPolicy.Interval(Duration.ofNanos(1500)).toString()).isEqualTo("interval:PT0.0000015S");
  }

  @Test
  void parse_rejectsWithAClearMessage() {
    for (String bad : List.of("", "never", "interval", "interval:", "interval:30", "interval:30x",
        "idle:-5s", "idle:0s", "interval:PT0S", "interval:PTxS", "on-close:5s", "interval:99999999999999999d",
        "sometimes:5s")) {
      assertThatThrownBy(() -> FlushPolicy.parse(bad)).as(bad)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("flush policy '" + bad + "'");
    }
    assertThatThrownBy(() -> FlushPolicy.parse("interval:30")).hasMessageContaining("needs a unit");
    assertThatThrownBy(() -> FlushPolicy.parse("never"))
        .hasMessageContaining("on-unmount, on-close, interval:DURATION or idle:DURATION");
    assertThatThrownBy(() -> new FlushPolicy.Idle(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
  }
}
