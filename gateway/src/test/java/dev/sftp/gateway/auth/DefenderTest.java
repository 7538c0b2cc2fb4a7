package dev.sftp.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.DefenderSettings;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The defender's counting: IPv6 by /64, and a table that stays bounded under many addresses. */
class DefenderTest {
  /** A clock the test moves. */
  static final class Manual extends Clock {
    Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  static InetAddress v4(int i) throws Exception {
    return InetAddress.getByAddress(new byte[] {10, (byte) (i >> 16), (byte) (i >> 8), (byte) i});
  }

  @Test
  void anIpv6HostIsCountedByItsSlash64() throws Exception {
    Defender d = new Defender(new DefenderSettings(true, 5, 600, 900, List.of()), new Manual());
    for (int i = 1; i <= 5; i++) {
      d.failed(InetAddress.getByName("2001:db8:1:2::" + Integer.toHexString(i)), "root");
    }
    assertThat(d.banned(InetAddress.getByName("2001:db8:1:2:ffff::9"))).as("another address of the same /64").isTrue();
    assertThat(d.banned(InetAddress.getByName("2001:db8:1:3::1"))).as("the next /64").isFalse();
  }

  @Test
  void theTableStaysBoundedAndKeepsItsBans() throws Exception {
    Manual clock = new Manual();
    Defender d = new Defender(new DefenderSettings(true, 3, 600, 900, List.of()), clock);
    InetAddress guesser = InetAddress.getByName("192.0.2.1");
    for (int i = 0; i < 3; i++) {
      d.failed(guesser, "root");
    }
    assertThat(d.banned(guesser)).isTrue();
    // Twice the table's size of addresses failing once each.
    for (int i = 0; i < 2 * Defender.MAX_TRACKED; i++) {
      d.failed(v4(i), "root");
      if (i % 50_000 == 0) {
        clock.now = clock.now.plusSeconds(2); // sweeps are at most once a second
      }
    }
    assertThat(d.trackedCount()).isLessThanOrEqualTo(Defender.MAX_TRACKED);
    assertThat(d.banned(guesser)).as("a ban survives the sweeps").isTrue();
    clock.now = clock.now.plus(Duration.ofSeconds(900));
    assertThat(d.banned(guesser)).as("and ends on time").isFalse();
  }
}
