package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What other programs put on the volume and what clients make there, seen through OpenSSH's
 * sftp: a name that is not UTF-8 hides nothing else, and symbolic links keep the target as
 * written, so they survive the rename of their folder.
 */
class NamesAndLinksIT {
  @TempDir static Path tmp;
  static TestGateway gw;
  static final Login ALICE = Login.key("alice", "ed25519");

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("alice", "ed25519"));
    Files.createDirectories(gw.home("alice"));
  }

  @AfterAll
  static void stop() throws Exception {
    gw.close();
  }

  @Test
  void aNameThatIsNotUtf8HidesNoSibling() throws Exception {
    Path dir = Files.createDirectories(gw.home("alice").resolve("mixed"));
    Files.writeString(dir.resolve("before.txt"), "b");
    Files.writeString(dir.resolve("café.txt"), "c");
    Files.writeString(dir.resolve("zed.txt"), "z");
    // Written by another program as Latin-1 bytes: not valid UTF-8.
    Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import sys; open(sys.argv[1].encode() + b'/caf\\xe9-latin1.txt', 'w').write('l')", dir.toString())
        .inheritIO().start();
    assertThat(p.waitFor()).isZero();
    assertThat(Files.list(dir).count()).isEqualTo(4);

    Proc.Result ls = ok(Clients.sftp(gw, ALICE, "ls -1 mixed"));
    assertThat(ls.out()).contains("before.txt", "café.txt", "zed.txt").doesNotContain("latin1");
    ok(Clients.sftp(gw, ALICE, "get mixed/zed.txt " + tmp.resolve("zed.txt")));
    assertThat(tmp.resolve("zed.txt")).hasContent("z");
    // Left alone on the volume.
    assertThat(Files.list(dir).count()).isEqualTo(4);
  }

  @Test
  void linksKeepTheirTargetAsWrittenAndSurviveARenameOfTheirFolder() throws Exception {
    Path local = Files.writeString(tmp.resolve("tg.txt"), "target content");
    ok(Clients.sftp(gw, ALICE, "mkdir d", "put " + local + " d/tg.txt", "ln -s tg.txt d/l1", "mkdir d/sub", "ln -s ../tg.txt d/sub/l2"));
    assertThat(Files.readSymbolicLink(gw.home("alice").resolve("d/l1"))).isEqualTo(Path.of("tg.txt"));
    assertThat(Files.readSymbolicLink(gw.home("alice").resolve("d/sub/l2"))).isEqualTo(Path.of("../tg.txt"));
    // Read back unchanged (OpenSSH's sftp has no readlink command: paramiko's).
    assertThat(ok(Clients.paramiko(gw, ALICE, "client.connect(**kw)\nprint('target:', client.open_sftp().readlink('d/l1'))")).out())
        .contains("target: tg.txt");

    ok(Clients.sftp(gw, ALICE, "rename d dd", "get dd/l1 " + tmp.resolve("via-l1.txt"), "get dd/sub/l2 " + tmp.resolve("via-l2.txt")));
    assertThat(tmp.resolve("via-l1.txt")).hasContent("target content");
    assertThat(tmp.resolve("via-l2.txt")).hasContent("target content");
    assertThat(ok(Clients.paramiko(gw, ALICE, "client.connect(**kw)\nprint('target:', client.open_sftp().readlink('dd/sub/l2'))")).out())
        .contains("target: ../tg.txt");

    // Climbing out of the home from the link's folder is refused, and nothing is made.
    Proc.Result out = Clients.sftp(gw, ALICE, "ln -s ../../../etc/passwd dd/escape");
    assertThat(out.exit()).isNotZero();
    assertThat(Files.exists(gw.home("alice").resolve("dd/escape"), java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  /**
   * Another program on the volume puts a link where a user's home will be, pointing at another
   * user's home: the login is refused rather than served from the other home.
   */
  @Test
  void aHomeThatIsALinkOnTheVolumeIsRefused() throws Exception {
    try (TestGateway other = TestGateway.start(tmp.resolve("linked"), TestGateway.user("mallory", "ed25519"), TestGateway.user("bob", "ed25519"))) {
      Path bob = Files.createDirectories(other.home("bob"));
      Files.writeString(bob.resolve("secret.txt"), "bob's");
      Files.createSymbolicLink(other.home("mallory"), bob);
      Path stolen = tmp.resolve("stolen.txt");
      Proc.Result r = Clients.sftp(other, Login.key("mallory", "ed25519"), "get secret.txt " + stolen);
      assertThat(r.exit()).as(r.toString()).isNotZero();
      assertThat(stolen).doesNotExist();
      ok(Clients.sftp(other, Login.key("bob", "ed25519"), "get secret.txt " + tmp.resolve("own.txt")));
      assertThat(tmp.resolve("own.txt")).hasContent("bob's");
    }
  }
}
