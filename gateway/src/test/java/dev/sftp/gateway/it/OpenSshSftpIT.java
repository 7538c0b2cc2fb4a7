package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every everyday SFTP operation with the OpenSSH {@code sftp} client in batch mode. */
class OpenSshSftpIT {
  @TempDir static Path tmp;
  static TestGateway gw;
  static final Login ALICE = Login.key("alice", "ed25519");

  @BeforeAll
  static void start() {
    gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("alice", "ed25519"));
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
  }

  static Proc.Result ok(Proc.Result r) {
    assertThat(r.exit()).as(r.toString()).isZero();
    return r;
  }

  static String sha256(Path p) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(p)) {
      byte[] buf = new byte[1 << 16];
      int n;
      while ((n = in.read(buf)) > 0) {
        md.update(buf, 0, n);
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  static Path randomFile(Path p, int size, long seed) throws IOException {
    byte[] b = new byte[size];
    new Random(seed).nextBytes(b);
    Files.createDirectories(p.getParent());
    Files.write(p, b);
    return p;
  }

  @Test
  void uploadsAndDownloadsWithEqualContentAndListsSizes() throws Exception {
    Path src = randomFile(tmp.resolve("local/big.bin"), 5 * 1024 * 1024 + 17, 1);
    Path back = tmp.resolve("local/big.back");
    Proc.Result r = ok(Clients.sftp(gw, ALICE, "put " + src + " big.bin", "ls -l big.bin", "get big.bin " + back));
    assertThat(sha256(gw.home("alice").resolve("big.bin"))).isEqualTo(sha256(src));
    assertThat(sha256(back)).isEqualTo(sha256(src));
    assertThat(r.out()).containsPattern("-rw-r--r--\\s+\\S+\\s+\\S+\\s+\\S+\\s+5242897 .* big.bin");
  }

  @Test
  void mkdirAndRmdirRefuseNonEmptyDirectory() throws Exception {
    Path f = randomFile(tmp.resolve("local/small.txt"), 100, 2);
    ok(Clients.sftp(gw, ALICE, "mkdir dir1", "put " + f + " dir1/a.txt"));
    assertThat(gw.home("alice").resolve("dir1")).isDirectory();
    Proc.Result refused = Clients.sftp(gw, ALICE, "rmdir dir1");
    assertThat(refused.exit()).isNotZero();
    assertThat(gw.home("alice").resolve("dir1/a.txt")).exists();
    ok(Clients.sftp(gw, ALICE, "rm dir1/a.txt", "rmdir dir1"));
    assertThat(gw.home("alice").resolve("dir1")).doesNotExist();
  }

  @Test
  void renamesIncludingPosixRenameOverAnExistingFile() throws Exception {
    Path a = randomFile(tmp.resolve("local/ren-a"), 10, 3);
    Path b = randomFile(tmp.resolve("local/ren-b"), 20, 4);
    ok(Clients.sftp(gw, ALICE, "put " + a + " a", "put " + b + " b", "rename a c"));
    assertThat(gw.home("alice").resolve("a")).doesNotExist();
    assertThat(Files.size(gw.home("alice").resolve("c"))).isEqualTo(10);
    // OpenSSH's sftp uses posix-rename@openssh.com when offered, which replaces the target.
    ok(Clients.sftp(gw, ALICE, "rename c b"));
    assertThat(Files.size(gw.home("alice").resolve("b"))).isEqualTo(10);
    ok(Clients.sftp(gw, ALICE, "rm b"));
  }

  @Test
  void chmodAndPreservedTimesAreApplied() throws Exception {
    Path f = randomFile(tmp.resolve("local/times.txt"), 64, 5);
    Instant then = Instant.parse("2020-02-02T10:20:30Z");
    Files.setLastModifiedTime(f, FileTime.from(then));
    ok(Clients.sftp(gw, ALICE, "put -p " + f + " times.txt", "chmod 600 times.txt"));
    Path remote = gw.home("alice").resolve("times.txt");
    assertThat(Files.getLastModifiedTime(remote).toInstant()).isEqualTo(then);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(remote))).isEqualTo("rw-------");
    Path back = tmp.resolve("local/times.back");
    ok(Clients.sftp(gw, ALICE, "get -p times.txt " + back));
    assertThat(Files.getLastModifiedTime(back).toInstant()).isEqualTo(then);
  }

  @Test
  void createdFilesAndDirectoriesGetSaneModes() throws Exception {
    Path f = randomFile(tmp.resolve("local/mode.txt"), 8, 6);
    Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rwxrwxrwx"));
    ok(Clients.sftp(gw, ALICE, "put " + f + " mode.txt", "mkdir modedir"));
    // The umask (0022) applies to what clients ask for.
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(gw.home("alice").resolve("mode.txt")))).isEqualTo("rwxr-xr-x");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(gw.home("alice").resolve("modedir")))).isEqualTo("rwxr-xr-x");
  }

  @Test
  void symlinkInsideHomeWorksAndReadsBack() throws Exception {
    Path f = randomFile(tmp.resolve("local/target.txt"), 33, 7);
    Proc.Result r = ok(Clients.sftp(gw, ALICE, "mkdir lnkdir", "put " + f + " lnkdir/target.txt", "ln -s lnkdir/target.txt link.txt", "ls -l link.txt", "get link.txt " + tmp.resolve("local/via-link.txt")));
    assertThat(Files.isSymbolicLink(gw.home("alice").resolve("link.txt"))).isTrue();
    assertThat(sha256(tmp.resolve("local/via-link.txt"))).isEqualTo(sha256(f));
    assertThat(r.out()).contains("link.txt");
  }

  @Test
  void dfReportsTheVolume() {
    Proc.Result r = ok(Clients.sftp(gw, ALICE, "df"));
    assertThat(r.out()).contains("Size").contains("Avail");
    assertThat(r.out()).containsPattern("\\n\\s*\\d+\\s+\\d+\\s+\\d+");
  }

  @Test
  void thousandsOfSmallFilesInOneSession() throws Exception {
    Path dir = tmp.resolve("local/many");
    Files.createDirectories(dir);
    for (int i = 0; i < 2000; i++) {
      Files.writeString(dir.resolve("f" + i + ".txt"), "file number " + i + "\n");
    }
    ok(Clients.sftp(gw, ALICE, "put -r " + dir + " many"));
    try (Stream<Path> s = Files.list(gw.home("alice").resolve("many"))) {
      assertThat(s.count()).isEqualTo(2000);
    }
    Path back = tmp.resolve("local/many-back");
    ok(Clients.sftp(gw, ALICE, "get -r many " + back));
    for (int i = 0; i < 2000; i += 97) {
      assertThat(Files.readString(back.resolve("f" + i + ".txt"))).isEqualTo("file number " + i + "\n");
    }
    try (Stream<Path> s = Files.list(back)) {
      assertThat(s.count()).isEqualTo(2000);
    }
  }

  @Test
  void fsyncIsSupported() throws Exception {
    Path f = randomFile(tmp.resolve("local/sync.bin"), 4096, 8);
    // "put -f" asks the server to flush the file with fsync@openssh.com.
    ok(Clients.sftp(gw, ALICE, "put -f " + f + " sync.bin"));
    assertThat(sha256(gw.home("alice").resolve("sync.bin"))).isEqualTo(sha256(f));
  }

  @Test
  void hardLinksAreRefused() throws Exception {
    Path f = randomFile(tmp.resolve("local/hl.txt"), 10, 9);
    ok(Clients.sftp(gw, ALICE, "put " + f + " hl.txt"));
    Proc.Result r = Clients.sftp(gw, ALICE, "ln hl.txt hard.txt");
    assertThat(r.exit()).isNotZero();
    assertThat(gw.home("alice").resolve("hard.txt")).doesNotExist();
    assertThat(Files.exists(gw.home("alice").resolve("hard.txt"), LinkOption.NOFOLLOW_LINKS)).isFalse();
  }
}
