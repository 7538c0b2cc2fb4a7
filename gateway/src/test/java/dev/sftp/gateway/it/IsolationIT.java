package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.sftp.common.SftpException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every escape attempt from a home is refused: {@code ..}, absolute paths, symbolic links made by
 * the user or already on the volume (the CVE-2023-35887 class), links moved to change their
 * meaning, hard links.
 */
class IsolationIT {
  @TempDir static Path tmp;
  static TestGateway gw;
  static SshClient client;
  static ClientSession session;
  static SftpClient sftp;
  static final String SECRET = "the neighbour's secret";

  @BeforeAll
  static void start() throws Exception {
    gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("eve", "ed25519"), TestGateway.user("victim", "ed25519"), TestGateway.user("evelyn", "ed25519"));
    Path eve = gw.home("eve");
    Files.createDirectories(eve);
    Files.createDirectories(gw.home("victim"));
    Files.createDirectories(gw.home("evelyn"));
    Files.writeString(gw.home("victim").resolve("secret.txt"), SECRET);
    Files.writeString(gw.home("evelyn").resolve("secret.txt"), SECRET);
    Files.writeString(gw.dataDir.resolve("root-secret.txt"), SECRET);
    // Links already on the volume, pointing out of eve's home, absolute and relative.
    Files.createSymbolicLink(eve.resolve("abs-escape"), gw.home("victim"));
    Files.createSymbolicLink(eve.resolve("rel-escape"), Path.of("../victim"));
    Files.createSymbolicLink(eve.resolve("file-escape"), gw.home("victim").resolve("secret.txt"));
    Files.createSymbolicLink(eve.resolve("etc"), Path.of("/etc"));
    Files.createSymbolicLink(eve.resolve("dangling-out"), gw.dataDir.resolve("created-outside.txt"));
    // A sibling whose name shares eve's prefix: /data/evelyn vs /data/eve.
    Files.createSymbolicLink(eve.resolve("prefix-escape"), gw.home("evelyn"));
    // A relative link that is harmless where it is but escapes once moved up.
    Files.createDirectories(eve.resolve("deep"));
    Files.writeString(eve.resolve("x.txt"), "x");
    Files.createSymbolicLink(eve.resolve("deep/up"), Path.of("../x.txt"));

    client = SshClient.setUpDefaultClient();
    client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
    client.setKeyIdentityProvider(new FileKeyPairProvider(Login.key("eve", "ed25519").key()));
    client.start();
    session = client.connect("eve", "127.0.0.1", gw.port()).verify(Duration.ofSeconds(20)).getSession();
    session.auth().verify(Duration.ofSeconds(20));
    sftp = SftpClientFactory.instance().createSftpClient(session);
  }

  @AfterAll
  static void stop() throws IOException {
    sftp.close();
    session.close();
    client.stop();
    gw.close();
  }

  static String read(String path) throws IOException {
    try (InputStream in = sftp.read(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static void write(String path, String content) throws IOException {
    try (OutputStream out = sftp.write(path)) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    }
  }

  static List<String> names(String dir) throws IOException {
    List<String> out = new ArrayList<>();
    for (SftpClient.DirEntry e : sftp.readDir(dir)) {
      out.add(e.getFilename());
    }
    return out;
  }

  @Test
  void homeIsTheRootAndDotDotStopsThere() throws IOException {
    assertThat(sftp.canonicalPath(".")).isEqualTo("/");
    assertThat(sftp.canonicalPath("../../..")).isEqualTo("/");
    assertThat(names("/../..")).contains("x.txt", "deep").doesNotContain("victim", "eve", "root-secret.txt");
    assertThatThrownBy(() -> read("../victim/secret.txt")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> read("/../root-secret.txt")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> read("deep/../../root-secret.txt")).isInstanceOf(SftpException.class);
  }

  @Test
  void absolutePathsAreInsideTheHome() {
    assertThatThrownBy(() -> read("/etc/passwd")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> read(gw.home("victim").resolve("secret.txt").toString())).isInstanceOf(SftpException.class);
  }

  @Test
  void linksAlreadyOnTheVolumeThatPointOutsideAreRefused() {
    for (String p : List.of("abs-escape/secret.txt", "rel-escape/secret.txt", "file-escape", "etc/passwd", "prefix-escape/secret.txt")) {
      assertThatThrownBy(() -> read(p)).as(p).isInstanceOf(SftpException.class);
    }
    assertThatThrownBy(() -> names("abs-escape")).hasMessageContaining("Permission denied");
    assertThatThrownBy(() -> names("etc")).hasMessageContaining("Permission denied");
    assertThatThrownBy(() -> sftp.stat("etc/passwd")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> sftp.canonicalPath("abs-escape")).isInstanceOf(SftpException.class);
  }

  @Test
  void writesThroughOutsideLinksAreRefused() throws IOException {
    assertThatThrownBy(() -> write("abs-escape/planted.txt", "x")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> write("dangling-out", "x")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> sftp.mkdir("rel-escape/newdir")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> sftp.remove("file-escape/..")).isInstanceOf(SftpException.class);
    assertThat(gw.home("victim").resolve("planted.txt")).doesNotExist();
    assertThat(gw.dataDir.resolve("created-outside.txt")).doesNotExist();
    assertThat(gw.home("victim").resolve("newdir")).doesNotExist();
    assertThat(gw.home("victim").resolve("secret.txt")).hasContent(SECRET);
  }

  @Test
  void linksTheUserMakesStayInsideTheHome() throws IOException {
    // A relative target that climbs out of the home from where the link is: refused.
    assertThatThrownBy(() -> sftp.symLink("my-up", "../../..")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> sftp.symLink("my-victim", "../victim/secret.txt")).isInstanceOf(SftpException.class);
    assertThatThrownBy(() -> sftp.symLink("deep/my-out", "../../victim")).isInstanceOf(SftpException.class);
    assertThat(Files.exists(gw.home("eve").resolve("my-up"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(Files.exists(gw.home("eve").resolve("my-victim"), LinkOption.NOFOLLOW_LINKS)).isFalse();
    // An absolute target is inside the home, stored as the relative path that leads there, so
    // that no program following it on the volume leaves the home either.
    sftp.symLink("deep/my-etc", "/etc");
    assertThat(Files.readSymbolicLink(gw.home("eve").resolve("deep/my-etc"))).isEqualTo(Path.of("../etc"));
    assertThatThrownBy(() -> read("deep/my-etc/passwd")).isInstanceOf(SftpException.class);
    sftp.symLink("deep/my-root", "/../..");
    assertThat(Files.readSymbolicLink(gw.home("eve").resolve("deep/my-root"))).isEqualTo(Path.of(".."));
    assertThat(names("deep/my-root")).contains("x.txt");
    assertThat(sftp.readLink("deep/my-root")).isEqualTo("..");
  }

  @Test
  void aRelativeLinkCannotBeMovedToWhereItWouldEscape() throws IOException {
    assertThat(read("deep/up")).isEqualTo("x");
    assertThatThrownBy(() -> sftp.rename("deep/up", "up")).isInstanceOf(SftpException.class);
    assertThat(Files.isSymbolicLink(gw.home("eve").resolve("deep/up"))).isTrue();
    assertThat(Files.exists(gw.home("eve").resolve("up"), LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void hardLinksAreRefused() throws IOException {
    write("own.txt", "mine");
    assertThatThrownBy(() -> sftp.link("own.txt", "hard.txt", false)).isInstanceOf(SftpException.class);
    assertThat(Files.exists(gw.home("eve").resolve("hard.txt"), LinkOption.NOFOLLOW_LINKS)).isFalse();
  }

  @Test
  void openSshClientCannotEscapeEither() {
    Login eve = Login.key("eve", "ed25519");
    Path out = tmp.resolve("stolen.txt");
    for (String cmd : List.of("get ../victim/secret.txt " + out, "get /../root-secret.txt " + out,
        "get abs-escape/secret.txt " + out, "get etc/passwd " + out, "get file-escape " + out)) {
      Proc.Result r = Clients.sftp(gw, eve, cmd);
      assertThat(r.exit()).as(cmd).isNotZero();
      assertThat(out).doesNotExist();
    }
    Proc.Result ls = ok(Clients.sftp(gw, eve, "cd ..", "pwd", "ls"));
    assertThat(ls.out()).contains("Remote working directory: /").doesNotContain("victim ");
  }

  @Test
  void errorsDoNotRevealServerPaths() {
    // Refused by the confinement, by its lstat (a name below a file), by the gateway's own
    // check (a directory opened as a file) and by the kernel's open (exclusive create of a file
    // that exists): every message names the client's path, never the volume's.
    List<ThrowingCall> failing = List.of(
        () -> read("abs-escape/secret.txt"),
        () -> read("x.txt/inner"),
        () -> write("x.txt/inner", "x"),
        () -> write("deep", "x"),
        () -> sftp.close(sftp.open("x.txt", SftpClient.OpenMode.Write, SftpClient.OpenMode.Create, SftpClient.OpenMode.Exclusive)));
    for (ThrowingCall call : failing) {
      assertThatThrownBy(call::run).isInstanceOf(IOException.class)
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(gw.dataDir.toString()).doesNotContain(tmp.toString()));
    }
  }

  interface ThrowingCall {
    void run() throws IOException;
  }
}
