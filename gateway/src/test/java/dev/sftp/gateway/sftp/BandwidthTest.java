package dev.sftp.gateway.sftp;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class BandwidthTest {
  @Test
  void aBucketChargesFirstAndThenMakesTheNextRequestWaitForTheDebt() {
    Bandwidth.Bucket b = new Bandwidth.Bucket();
    long rate = 1 << 20; // 1 MiB/s: burst 256 KiB
    long t = 0;
    assertThat(b.take(256 << 10, rate, t)).isZero(); // the burst
    assertThat(b.take(256 << 10, rate, t)).isZero(); // tokens were 0, not below: charged, now -256 KiB
    long wait = b.take(1, rate, t);
    assertThat(wait).isEqualTo(250_000_000L); // 256 KiB at 1 MiB/s
    assertThat(b.take(1, rate, t + wait)).isZero();
  }

  @Test
  void overTimeTheAdmittedBytesFollowTheRate() {
    Bandwidth.Bucket b = new Bandwidth.Bucket();
    long rate = 100_000;
    long t = 0;
    long sent = 0;
    while (t < 10_000_000_000L) { // 10 s of simulated time, 32 KiB requests
      long w = b.take(32 * 1024, rate, t);
      if (w == 0) {
        sent += 32 * 1024;
      } else {
        t += w;
      }
    }
    // 10 s at 100 kB/s, plus the first burst (64 KiB), plus at most one request of debt.
    assertThat(sent).isBetween(1_000_000L, 1_000_000L + 64 * 1024 + 32 * 1024 + 32 * 1024);
  }

  @Test
  void usersWithoutALimitAreNeverHeld() {
    Bandwidth bw = new Bandwidth(u -> u.equals("slow") ? new dev.sftp.contract.UserLimits(null, null, 8192L, null) : null);
    assertThat(bw.limited("fast")).isFalse();
    assertThat(bw.admit("fast", true, 1 << 30)).isZero();
    assertThat(bw.admit("slow", false, 1 << 30)).isZero(); // no download limit
    assertThat(bw.admit("slow", true, 1 << 20)).isZero();
    assertThat(bw.admit("slow", true, 1)).isPositive();
  }
}
