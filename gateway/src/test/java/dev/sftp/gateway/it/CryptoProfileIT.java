package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.AlgorithmProfile;
import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Modern profile as ssh-audit (Debian's package, which .ci/run installs) sees it: no [fail]
 * line; post-quantum hybrid key exchange first; strict key exchange; no compression before
 * authentication; no ECDSA host key offered although the gateway holds one.
 */
class CryptoProfileIT {
  @TempDir Path tmp;

  static Proc.Result audit(TestGateway gw) {
    return Proc.run(List.of("ssh-audit", "-n", "-p", String.valueOf(gw.port()), "127.0.0.1"), Map.of(), "", Duration.ofSeconds(60));
  }

  @Test
  void sshAuditFindsNothingToFailInTheModernProfile() throws Exception {
    Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/ssh-audit")), "ssh-audit is not installed (apt-get install ssh-audit; .ci/run does)");
    try (TestGateway gw = TestGateway.start(tmp.resolve("modern"), TestGateway.user("alice", "ed25519"))) {
      Proc.Result r = audit(gw);
      System.out.println("CryptoProfileIT (Modern):\n" + r.out());
      List<String> fails = r.out().lines().filter(l -> l.contains("[fail]")).toList();
      assertThat(fails).as("ssh-audit [fail] lines").isEmpty();
      List<String> kex = r.out().lines().filter(l -> l.startsWith("(kex) ")).toList();
      assertThat(kex.get(0)).startsWith("(kex) mlkem768x25519-sha256");
      assertThat(r.out()).contains("(kex) kex-strict-s-v00@openssh.com").contains("(key) ssh-ed25519")
          .doesNotContain("(key) ecdsa-").doesNotContain("(kex) ecdh-sha2-nistp")
          .contains("(gen) compression: enabled (zlib@openssh.com)");
    }
    // Compatible offers what Modern leaves out, for old clients.
    ServerSettings s = TestGateway.settings(null);
    ServerSettings compatible = s.toBuilder().algorithmProfile(AlgorithmProfile.COMPATIBLE).build();
    try (TestGateway gw = TestGateway.start(tmp.resolve("compatible"), compatible, TestGateway.user("alice", "ed25519"))) {
      Proc.Result r = audit(gw);
      assertThat(r.out()).contains("(kex) ecdh-sha2-nistp256").contains("(key) ecdsa-sha2-nistp256").contains("(mac) hmac-sha1");
    }
  }
}
