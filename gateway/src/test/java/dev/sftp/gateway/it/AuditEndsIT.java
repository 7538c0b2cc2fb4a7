package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.gateway.support.AuditCapture;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Every file opened ends in exactly one audit event, whatever the end. */
class AuditEndsIT {
  @TempDir Path tmp;
  @RegisterExtension final AuditCapture audit = new AuditCapture();

  List<String> fileEvents(String path) {
    return audit.lines().stream().filter(l -> l.contains("\"event\":\"file.") && l.contains("\"path\":\"" + path + "\"")).toList();
  }

  /** A connection dropped in the middle of an upload: one file.write, interrupted, with the bytes that arrived. */
  @Test
  void aDroppedConnectionEndsItsUploadAsInterrupted() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("drop"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          client.connect(**kw)
          s = client.open_sftp()
          f = s.open('cut.bin', 'w')
          f.write(b'x' * 100000)
          f.flush()
          s.stat('cut.bin')   # the writes were answered
          client.get_transport().sock.close()   # gone, without closing the file
          """));
      await().atMost(Duration.ofSeconds(30)).until(() -> !fileEvents("/cut.bin").isEmpty());
      Thread.sleep(500); // would a second event follow?
      List<String> events = fileEvents("/cut.bin");
      assertThat(events).hasSize(1);
      assertThat(events.get(0)).contains("\"event\":\"file.write\"").contains("\"bytesWritten\":100000").contains("\"result\":\"interrupted\"");
      assertThat(gw.home("alice").resolve("cut.bin")).hasSize(100000);
    }
  }

  /** A full volume: the client is told, the event says error and why, the file ends once. */
  @Test
  void aFullVolumeEndsTheUploadAsAnError() throws Exception {
    Assumptions.assumeTrue("root".equals(System.getProperty("user.name")), "mounting a small tmpfs needs root");
    try (TestGateway gw = TestGateway.start(tmp.resolve("full"), TestGateway.user("alice", "ed25519"))) {
      Path home = gw.home("alice");
      Files.createDirectories(home);
      Proc.Result mount = Proc.run(List.of("mount", "-t", "tmpfs", "-o", "size=1m", "sftp-audit-test", home.toString()), java.util.Map.of(), "", Duration.ofSeconds(20));
      Assumptions.assumeTrue(mount.exit() == 0, "tmpfs mount: " + mount);
      try {
        Path src = tmp.resolve("two-mib.bin");
        Files.write(src, new byte[2 << 20]);
        Proc.Result r = Clients.sftp(gw, Login.key("alice", "ed25519"), "put " + src + " big.bin");
        assertThat(r.exit()).as(r.toString()).isNotZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> !fileEvents("/big.bin").isEmpty());
        Thread.sleep(500);
        List<String> events = fileEvents("/big.bin");
        System.out.println("AuditEndsIT: sftp said " + r.all().strip().replace('\n', ' ') + "; audit " + events);
        assertThat(events).hasSize(1);
        assertThat(events.get(0)).contains("\"event\":\"file.write\"").contains("\"result\":\"error\"").contains("\"reason\":\"no space left on the volume\"");
      } finally {
        Proc.run(List.of("umount", "-l", home.toString()), java.util.Map.of(), "", Duration.ofSeconds(20));
      }
    }
  }
}
