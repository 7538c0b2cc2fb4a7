package dev.sftp.gateway.users;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.Cidr;
import dev.sftp.contract.PathRule;
import dev.sftp.contract.Permission;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class GatewayUserTest {
  static GatewayUser user(boolean readOnly, List<PathRule> rules) {
    return new GatewayUser("u", null, List.of(), Path.of("/data/u"), false, null, List.of(), readOnly, EnumSet.allOf(Permission.class), rules, null, "d");
  }

  @Test
  void longestRuleWinsAndMatchesWholeNames() {
    GatewayUser u = user(false, List.of(
        new PathRule("/out", List.of(Permission.LIST, Permission.READ)),
        new PathRule("/out/drop/", List.of(Permission.WRITE))));
    assertThat(u.permissionsAt("/out/x")).containsExactlyInAnyOrder(Permission.LIST, Permission.READ);
    assertThat(u.permissionsAt("/out")).containsExactlyInAnyOrder(Permission.LIST, Permission.READ);
    assertThat(u.permissionsAt("/out/drop/f")).containsExactly(Permission.WRITE);
    assertThat(u.permissionsAt("/outside")).isEqualTo(Permission.ALL);
    assertThat(u.permissionsAt("/")).isEqualTo(Permission.ALL);
  }

  @Test
  void readOnlyKeepsOnlyListAndReadWhateverTheRules() {
    GatewayUser u = user(true, List.of(new PathRule("/in", List.of(Permission.WRITE, Permission.LIST))));
    assertThat(u.permissionsAt("/x")).containsExactlyInAnyOrder(Permission.LIST, Permission.READ);
    assertThat(u.permissionsAt("/in/f")).containsExactly(Permission.LIST);
  }

  @Test
  void refusalsNameTheReason() throws Exception {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    GatewayUser ranged = new GatewayUser("u", null, List.of(), Path.of("/d"), false, Instant.parse("2026-06-01T00:00:00Z"), List.of(Cidr.parse("10.0.0.0/8")), false, Permission.ALL, List.of(), null, "d");
    assertThat(ranged.refusal(InetAddress.getByName("10.9.9.9"), now)).isNull();
    assertThat(ranged.refusal(InetAddress.getByName("192.168.1.1"), now)).isEqualTo("source address not allowed");
    assertThat(ranged.refusal(InetAddress.getByName("10.9.9.9"), Instant.parse("2026-06-01T00:00:00Z"))).isEqualTo("user expired");
    GatewayUser off = new GatewayUser("u", null, List.of(), Path.of("/d"), true, null, List.of(), false, Permission.ALL, List.of(), null, "d");
    assertThat(off.refusal(InetAddress.getByName("10.9.9.9"), now)).isEqualTo("user disabled");
  }
}
