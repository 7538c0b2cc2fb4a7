package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static dev.sftp.gateway.it.OpenSshSftpIT.randomFile;
import static dev.sftp.gateway.it.OpenSshSftpIT.sha256;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.UserEntry;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Keys;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Logins with every accepted key type and with passwords; refusals; SFTP-only channels. */
class AuthIT {
  @TempDir static Path tmp;
  static TestGateway gw;

  static UserEntry withKeys(String name, List<String> keys) {
    return new UserEntry(name, TestGateway.hash(TestGateway.PASSWORD), keys, name, false, null, null, false, null, null, null);
  }

  @BeforeAll
  static void start() {
    gw = TestGateway.start(tmp.resolve("gw"),
        TestGateway.user("carol", "ed25519", "ecdsa", "rsa"),
        withKeys("disabled", List.of(Keys.publicLine("ed25519"))).withDisabled(),
        new UserEntry("expired", TestGateway.hash(TestGateway.PASSWORD), List.of(Keys.publicLine("ed25519")), "expired", false, "2001-01-01T00:00:00Z", null, false, null, null, null),
        new UserEntry("faraway", TestGateway.hash(TestGateway.PASSWORD), List.of(Keys.publicLine("ed25519")), "faraway", false, null, List.of("10.0.0.0/8", "2001:db8::/32"), false, null, null, null),
        new UserEntry("nearby", TestGateway.hash(TestGateway.PASSWORD), List.of(Keys.publicLine("ed25519")), "nearby", false, null, List.of("127.0.0.0/8"), false, null, null, null),
        new UserEntry("keyonly", null, List.of(Keys.publicLine("ecdsa")), "keyonly", false, null, null, false, null, null, null));
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
  }

  @Test
  void everyAcceptedKeyTypeLogsIn() {
    for (String kind : List.of("ed25519", "ecdsa", "rsa")) {
      Proc.Result r = ok(Clients.sftp(gw, Login.key("carol", kind), "pwd"));
      assertThat(r.out()).as(kind).contains("Remote working directory: /");
    }
  }

  @Test
  void rsaKeysAreAcceptedOnlyWithSha2Signatures() {
    Login rsa = Login.key("carol", "rsa");
    ok(Clients.sftpWith(gw, rsa, List.of("-o", "PubkeyAcceptedAlgorithms=rsa-sha2-512"), "pwd"));
    ok(Clients.sftpWith(gw, rsa, List.of("-o", "PubkeyAcceptedAlgorithms=rsa-sha2-256"), "pwd"));
    Proc.Result sha1 = Clients.sftpWith(gw, rsa, List.of("-o", "PubkeyAcceptedAlgorithms=ssh-rsa"), "pwd");
    assertThat(sha1.exit()).isNotZero();
  }

  @Test
  void sha1HostKeySignaturesAreNotOffered() {
    Proc.Result r = Clients.sftpWith(gw, Login.key("carol", "ed25519"), List.of("-o", "LogLevel=INFO", "-o", "HostKeyAlgorithms=ssh-rsa,ssh-dss"), "pwd");
    assertThat(r.exit()).isNotZero();
    assertThat(r.err()).contains("no matching host key type");
  }

  @Test
  void passwordLoginWorksAndWrongPasswordOrUnknownUserIsRefused() {
    ok(Clients.sftp(gw, Login.password("carol", TestGateway.PASSWORD), "pwd"));
    assertThat(Clients.sftp(gw, Login.password("carol", "wrong password"), "pwd").exit()).isNotZero();
    assertThat(Clients.sftp(gw, Login.password("nobody", TestGateway.PASSWORD), "pwd").exit()).isNotZero();
    assertThat(Clients.sftp(gw, Login.password("keyonly", TestGateway.PASSWORD), "pwd").exit()).isNotZero();
  }

  /** WinSCP, FileZilla and PuTTY often ask for the password through keyboard-interactive. */
  @Test
  void keyboardInteractivePasswordLoginWorks() {
    List<String> kbd = List.of("-o", "PreferredAuthentications=keyboard-interactive");
    ok(Clients.sftpWith(gw, Login.password("carol", TestGateway.PASSWORD), kbd, "pwd"));
    assertThat(Clients.sftpWith(gw, Login.password("carol", "wrong"), kbd, "pwd").exit()).isNotZero();
  }

  @Test
  void unknownKeyIsRefused() {
    assertThat(Clients.sftp(gw, Login.key("keyonly", "ed25519"), "pwd").exit()).isNotZero();
    ok(Clients.sftp(gw, Login.key("keyonly", "ecdsa"), "pwd"));
  }

  @Test
  void disabledExpiredAndOutOfRangeUsersAreRefusedWhateverTheCredential() {
    for (String user : List.of("disabled", "expired", "faraway")) {
      assertThat(Clients.sftp(gw, Login.key(user, "ed25519"), "pwd").exit()).as(user + " with key").isNotZero();
      assertThat(Clients.sftp(gw, Login.password(user, TestGateway.PASSWORD), "pwd").exit()).as(user + " with password").isNotZero();
    }
    ok(Clients.sftp(gw, Login.key("nearby", "ed25519"), "pwd"));
  }

  @Test
  void shellAndExecAreRefusedWithAClearMessage() {
    Login carol = Login.key("carol", "ed25519");
    Proc.Result exec = Clients.ssh(gw, carol, "-l", "carol", "127.0.0.1", "id");
    assertThat(exec.exit()).as(exec.toString()).isEqualTo(1);
    assertThat(exec.err()).contains("This service allows SFTP connections only.");
    Proc.Result shell = Clients.ssh(gw, carol, "-l", "carol", "-T", "127.0.0.1");
    assertThat(shell.exit()).isEqualTo(1);
    assertThat(shell.err()).contains("This service allows SFTP connections only.");
  }

  @Test
  void portForwardingIsRefused() {
    Login carol = Login.key("carol", "ed25519");
    // A direct-tcpip channel, as -L and -W open them.
    Proc.Result local = Clients.ssh(gw, carol, "-o", "LogLevel=ERROR", "-W", "127.0.0.1:22", "-l", "carol", "127.0.0.1");
    assertThat(local.exit()).as(local.toString()).isNotZero();
    assertThat(local.err()).contains("forwarding failed");
    Proc.Result remote = Clients.ssh(gw, carol, "-o", "ExitOnForwardFailure=yes", "-N", "-R", "127.0.0.1:0:127.0.0.1:22", "-l", "carol", "127.0.0.1");
    assertThat(remote.exit()).as(remote.toString()).isNotZero();
    assertThat(remote.err()).contains("remote port forwarding failed");
  }

  @Test
  void scpInSftpModeWorksAndLegacyScpIsRefusedWithAHint() throws Exception {
    Login carol = Login.key("carol", "ed25519");
    Path src = randomFile(tmp.resolve("local/scp.bin"), 300_000, 21);
    ok(Clients.scp(gw, carol, src.toString(), "carol@127.0.0.1:scp.bin"));
    assertThat(sha256(gw.home("carol").resolve("scp.bin"))).isEqualTo(sha256(src));
    Path back = tmp.resolve("local/scp.back");
    ok(Clients.scp(gw, carol, "carol@127.0.0.1:scp.bin", back.toString()));
    assertThat(sha256(back)).isEqualTo(sha256(src));
    Path dir = tmp.resolve("local/scpdir");
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/x.txt"), "x");
    ok(Clients.scp(gw, carol, "-r", dir.toString(), "carol@127.0.0.1:scpdir"));
    assertThat(gw.home("carol").resolve("scpdir/sub/x.txt")).hasContent("x");

    Proc.Result legacy = Clients.scp(gw, carol, "-O", src.toString(), "carol@127.0.0.1:legacy.bin");
    assertThat(legacy.exit()).isNotZero();
    assertThat(legacy.err()).contains("Legacy SCP (scp -O) is not supported");
    assertThat(gw.home("carol").resolve("legacy.bin")).doesNotExist();
  }
}
