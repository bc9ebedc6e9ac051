package dev.cairn.asset;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.URI;
import org.junit.jupiter.api.Test;

class PublicAddressPolicyTest {
  private final PublicAddressPolicy strict = new PublicAddressPolicy(false);
  private final PublicAddressPolicy lenient = new PublicAddressPolicy(true);

  private static InetAddress ip(String literal) throws Exception {
    return InetAddress.getByName(literal);
  }

  @Test
  void refusesEveryNonPublicRange() throws Exception {
    for (String a : new String[] {"127.0.0.1", "127.255.0.9", "::1", "0.0.0.0", "::", "10.1.2.3",
        "172.16.0.1", "172.31.255.255", "192.168.1.1", "fc00::1", "fd12:3456::1", "169.254.1.1",
        "fe80::1", "100.64.0.1", "100.127.255.254", "224.0.0.1", "ff02::1", "255.255.255.255",
        "::ffff:10.0.0.1", "::ffff:127.0.0.1", "64:ff9b::a00:1", "169.254.169.254", "fd00:ec2::254",
        "100.100.100.200"}) {
      assertThat(strict.refusal(ip(a))).as(a).isNotNull();
    }
  }

  @Test
  void admitsPublicAddresses() throws Exception {
    for (String a : new String[] {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "2001:4860:4860::8888",
        "151.101.1.69"}) {
      assertThat(strict.refusal(ip(a))).as(a).isNull();
    }
  }

  @Test
  void allowPrivate_admitsLocalRanges_butNeverMetadata() throws Exception {
    for (String a : new String[] {"127.0.0.1", "10.0.0.1", "192.168.0.1", "fd12::1", "100.64.0.1"}) {
      assertThat(lenient.refusal(ip(a))).as(a).isNull();
    }
    for (String a : new String[] {"169.254.169.254", "fd00:ec2::254", "100.100.100.200"}) {
      assertThat(lenient.refusal(ip(a))).as(a).contains("metadata");
    }
  }

  @Test
  void check_resolvesTheHost_andNamesTheAddress() {
    assertThatThrownBy(() -> strict.check(URI.create("http://localhost:8080/x")))
        .isInstanceOf(OriginRefusedException.class)
        .hasMessageContaining("localhost").hasMessageContaining("loopback");
    assertThatThrownBy(() -> strict.check(URI.create("http://[::1]/x"))).isInstanceOf(OriginRefusedException.class);
    assertThatThrownBy(() -> strict.check(URI.create("file:///etc/passwd"))).isInstanceOf(OriginRefusedException.class);
  }
}
