package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics after a known sequence of client actions, scraped as Prometheus reads them. */
class MetricsIT {
  @TempDir Path tmp;

  static double value(String scrape, String series) {
    Matcher m = Pattern.compile("(?m)^" + Pattern.quote(series) + " (\\S+)$").matcher(scrape);
    assertThat(m.find()).as("series %s in%n%s", series, scrape).isTrue();
    return Double.parseDouble(m.group(1));
  }

  @Test
  void countersFollowWhatClientsDid() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Files.write(gw.home("alice").resolve("down.bin"), new byte[70_000]);
      // Two wrong passwords, then a key login that uploads 100,000 bytes, downloads 70,000, stats a
      // missing file and sends a path past PATH_MAX.
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          t = paramiko.Transport(('127.0.0.1', int(os.environ['PORT'])))
          t.start_client(timeout=20)
          for i in range(2):
              try:
                  t.auth_password(os.environ['USER_NAME'], 'wrong-%d' % i)
              except paramiko.AuthenticationException:
                  pass
          t.close()
          client.connect(**kw)
          s = client.open_sftp()
          with s.open('up.bin', 'w') as f:
              f.write(b'x' * 100000)
          with s.open('down.bin', 'r') as f:
              print('read', len(f.read()))
          for p in ['missing', 'a' * 5000]:
              try:
                  s.stat(p)
              except IOError as e:
                  print('refused', len(p))
          """));
      assertThat(r.out()).contains("read 70000").contains("refused 7").contains("refused 5000");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .until(() -> gw.scrape().contains("sftp_transfers_total{direction=\"read\",result=\"ok\",} 1.0"));
      String m = gw.scrape();
      System.out.println("MetricsIT:\n" + m.lines().filter(l -> l.startsWith("sftp_")).reduce("", (a, b) -> a + b + "\n"));
      assertThat(value(m, "sftp_logins_total{method=\"password\",result=\"failure\",}")).isEqualTo(2.0);
      assertThat(value(m, "sftp_logins_total{method=\"publickey\",result=\"success\",}")).isEqualTo(1.0);
      assertThat(value(m, "sftp_bytes_total{direction=\"written\",}")).isEqualTo(100_000.0);
      assertThat(value(m, "sftp_bytes_total{direction=\"read\",}")).isEqualTo(70_000.0);
      assertThat(value(m, "sftp_transfers_total{direction=\"write\",result=\"ok\",}")).isEqualTo(1.0);
      assertThat(value(m, "sftp_transfer_duration_seconds_count{direction=\"write\",result=\"ok\",}")).isEqualTo(1.0);
      assertThat(value(m, "sftp_refusals_total{event=\"request.refused\",limit=\"pathMax\",}")).isEqualTo(1.0);
      assertThat(value(m, "sftp_requests_total{result=\"error\",type=\"stat\",}")).isEqualTo(2.0);
      assertThat(value(m, "sftp_requests_total{result=\"ok\",type=\"open\",}")).isEqualTo(2.0);
      assertThat(value(m, "sftp_requests_total{result=\"ok\",type=\"close\",}")).isEqualTo(2.0);
      assertThat(value(m, "sftp_users")).isEqualTo(1.0);
      assertThat(value(m, "sftp_users_rejected")).isEqualTo(0.0);
      assertThat(m).containsPattern("sftp_host_key_info\\{fingerprint=\"SHA256:[^\"]+\",type=\"ssh-ed25519\",} 1.0");
    }
  }

  /**
   * Per-user metrics are opt-in and bounded: the top N users by bytes and the named ones get
   * series, the others none, and the set follows the traffic.
   */
  @Test
  void perUserSeriesExistOnlyForTheTopUsersAndTheNamedOnes() throws Exception {
    var settings = TestGateway.settings(null).toBuilder().userMetrics(new dev.sftp.contract.UserMetricsSettings(1, java.util.List.of("carol"))).build();
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), settings, TestGateway.user("alice", "ed25519"), TestGateway.user("bob", "ed25519"),
        TestGateway.user("carol", "ed25519"), TestGateway.user("dave", "ed25519"))) {
      for (String u : java.util.List.of("alice", "bob", "carol", "dave")) {
        Files.createDirectories(gw.home(u));
      }
      ok(Clients.sftp(gw, Login.key("alice", "ed25519"), "put " + Files.write(tmp.resolve("a"), new byte[300_000]) + " a"));
      ok(Clients.sftp(gw, Login.key("bob", "ed25519"), "put " + Files.write(tmp.resolve("b"), new byte[100_000]) + " b"));
      ok(Clients.sftp(gw, Login.key("carol", "ed25519"), "ls"));
      ok(Clients.sftp(gw, Login.key("dave", "ed25519"), "put " + Files.write(tmp.resolve("d"), new byte[10_000]) + " d"));
      gw.server().metrics().selectUsers();
      String m = gw.scrape();
      System.out.println("MetricsIT per user:\n" + m.lines().filter(l -> l.startsWith("sftp_user")).reduce("", (a, b) -> a + b + "\n"));
      assertThat(value(m, "sftp_user_bytes_total{direction=\"written\",user=\"alice\",}")).isEqualTo(300_000.0);
      assertThat(value(m, "sftp_user_sessions{user=\"alice\",}")).isEqualTo(0.0);
      assertThat(value(m, "sftp_user_requests_total{user=\"carol\",}")).isPositive();
      assertThat(m).doesNotContain("user=\"bob\"").doesNotContain("user=\"dave\"");
      assertThat(gw.server().metrics().usersShown()).containsExactlyInAnyOrder("alice", "carol");
      // bob moves more than alice: he takes the one place of the top, and his total shows whole.
      ok(Clients.sftp(gw, Login.key("bob", "ed25519"), "put " + Files.write(tmp.resolve("b2"), new byte[400_000]) + " b2"));
      gw.server().metrics().selectUsers();
      m = gw.scrape();
      assertThat(value(m, "sftp_user_bytes_total{direction=\"written\",user=\"bob\",}")).isEqualTo(500_000.0);
      assertThat(m).doesNotContain("user=\"alice\"");
      assertThat(gw.server().metrics().usersShown()).containsExactlyInAnyOrder("bob", "carol");
    }
  }
}
