package dev.sftp.contract;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;

class CidrTest {
  @Test
  void matchesV4V6AndMappedAddresses() throws Exception {
    Cidr ten = Cidr.parse("10.1.0.0/16");
    assertThat(ten.contains(InetAddress.getByName("10.1.200.3"))).isTrue();
    assertThat(ten.contains(InetAddress.getByName("10.2.0.1"))).isFalse();
    assertThat(ten.contains(InetAddress.getByName("::ffff:10.1.2.3"))).isTrue();
    assertThat(Cidr.parse("2001:db8::/32").contains(InetAddress.getByName("2001:db8:1::5"))).isTrue();
    assertThat(Cidr.parse("2001:db8::/32").contains(InetAddress.getByName("10.1.2.3"))).isFalse();
    assertThat(Cidr.parse("192.0.2.7").contains(InetAddress.getByName("192.0.2.7"))).isTrue();
    assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.getByName("203.0.113.9"))).isTrue();
  }

  @Test
  void refusesNamesAndBadPrefixes() {
    assertThatThrownBy(() -> Cidr.parse("localhost")).hasMessageContaining("not an IPv4 or IPv6");
    assertThatThrownBy(() -> Cidr.parse("10.0.0.0/40")).hasMessageContaining("prefix length 40");
    assertThatThrownBy(() -> Cidr.parse("300.1.1.1")).isInstanceOf(IllegalArgumentException.class);
  }
}
