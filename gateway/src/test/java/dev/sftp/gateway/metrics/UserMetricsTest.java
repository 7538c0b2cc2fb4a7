package dev.sftp.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.List;
import org.junit.jupiter.api.Test;

class UserMetricsTest {
  static ObjectNode event(String type, String user) {
    return JsonNodeFactory.instance.objectNode().put("event", type).put("user", user).put("method", "publickey");
  }

  @Test
  void sessionsFollowLoginsAndLogoutsAndSeriesStayBounded() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    GatewayMetrics m = new GatewayMetrics(registry);
    assertThat(m.perUser(2, List.of("named"))).isTrue();
    m.accept(event("login.success", "named"));
    m.accept(event("login.success", "named"));
    m.accept(event("logout", "named"));
    for (int i = 0; i < 10_000; i++) {
      m.bytesWritten("u" + i, i);
      m.request("u" + i, 6, false);
    }
    m.selectUsers();
    assertThat(registry.get("sftp.user.sessions").tag("user", "named").gauge().value()).isEqualTo(1.0);
    // 10,000 active users: the named one and the top two by bytes, 4 series each.
    assertThat(m.usersShown()).containsExactlyInAnyOrder("named", "u9999", "u9998");
    assertThat(registry.find("sftp.user.bytes").meters()).hasSize(6);
    assertThat(registry.find("sftp.user.requests").meters()).hasSize(3);
    assertThat(registry.get("sftp.user.bytes").tag("user", "u9999").tag("direction", "written").functionCounter().count()).isEqualTo(9999.0);
    m.accept(event("logout", "named"));
    m.accept(event("logout", "named")); // never below zero
    assertThat(registry.get("sftp.user.sessions").tag("user", "named").gauge().value()).isEqualTo(0.0);
  }

  @Test
  void offByDefault() {
    GatewayMetrics m = GatewayMetrics.none();
    assertThat(m.perUser(0, List.of())).isFalse();
    m.bytesRead("a", 5);
    m.selectUsers();
    assertThat(m.usersShown()).isEmpty();
    assertThat(m.registry().find("sftp.user.bytes").meters()).isEmpty();
  }
}
