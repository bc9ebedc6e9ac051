package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestPathTest {
  private static final String HASH = "a".repeat(64);

  @Test
  void lastTwoSegments_decide_whateverThePrefix() {
    assertThat(RequestPath.parse("/cas/" + HASH)).isEqualTo(new RequestPath.Key(RequestPath.Kind.CAS, HASH));
    assertThat(RequestPath.parse("/prefix/cas/" + HASH)).isEqualTo(new RequestPath.Key(RequestPath.Kind.CAS, HASH));
    assertThat(RequestPath.parse("/a/b/ac/" + HASH)).isEqualTo(new RequestPath.Key(RequestPath.Kind.AC, HASH));
    assertThat(RequestPath.parse("/ac/" + HASH + "?x=1")).isEqualTo(new RequestPath.Key(RequestPath.Kind.AC, HASH));
    assertThat(RequestPath.parse("/cas/ac/" + HASH)).isEqualTo(new RequestPath.Key(RequestPath.Kind.AC, HASH));
  }

  @Test
  void emptySegments_areIgnored() {
    RequestPath.Key key = new RequestPath.Key(RequestPath.Kind.CAS, HASH);
    assertThat(RequestPath.parse("//cas//" + HASH + "/")).isEqualTo(key);
    assertThat(RequestPath.parse("cas/" + HASH)).isEqualTo(key);
    assertThat(RequestPath.parse("/p//q/cas/" + HASH + "//")).isEqualTo(key);
    assertThat(RequestPath.parse("/cas/" + HASH + "#frag")).isEqualTo(key);
    assertThat(RequestPath.parse("/c%61s/" + HASH)).isEqualTo(key);
    assertThat(RequestPath.parse("//healthz/")).isInstanceOf(RequestPath.Health.class);
    assertThat(RequestPath.parse("/metrics?x=1")).isInstanceOf(RequestPath.Metrics.class);
    assertThat(RequestPath.parse("/" + HASH)).isInstanceOf(RequestPath.Unknown.class);
    assertThat(RequestPath.parse("")).isInstanceOf(RequestPath.Unknown.class);
    assertThat(RequestPath.parse("///")).isInstanceOf(RequestPath.Unknown.class);
  }

  @Test
  void healthAndMetrics_areExactPaths() {
    assertThat(RequestPath.parse("/healthz")).isInstanceOf(RequestPath.Health.class);
    assertThat(RequestPath.parse("/metrics")).isInstanceOf(RequestPath.Metrics.class);
    assertThat(RequestPath.parse("/x/metrics")).isInstanceOf(RequestPath.Unknown.class);
  }

  @Test
  void badKeys_areMalformed_unknownPlaces_areUnknown() {
    assertThat(RequestPath.parse("/cas/" + HASH.toUpperCase())).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/cas/" + HASH.substring(1))).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/ac/" + HASH + "0")).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/cas/")).isInstanceOf(RequestPath.Unknown.class);
    assertThat(RequestPath.parse("/blobs/" + HASH)).isInstanceOf(RequestPath.Unknown.class);
    assertThat(RequestPath.parse("/")).isInstanceOf(RequestPath.Unknown.class);
  }

  @Test
  void dotDotAndNul_areMalformed_evenPercentEncoded() {
    assertThat(RequestPath.parse("/x/../cas/" + HASH)).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/x/%2e%2e/cas/" + HASH)).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/x%00/cas/" + HASH)).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/x\0/cas/" + HASH)).isInstanceOf(RequestPath.Malformed.class);
    assertThat(RequestPath.parse("/%zz/cas/" + HASH)).isInstanceOf(RequestPath.Malformed.class);
  }
}
