package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.UploadMode;
import dev.sftp.gateway.fs.ConfinedFileSystemAccessor;
import dev.sftp.gateway.support.AuditCapture;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Upload mode Atomic with real clients: a file appears under its name only when the client closes
 * it successfully; an interrupted upload leaves nothing under the name (and an existing file
 * untouched), and its temporary is removed and never listed.
 */
class AtomicUploadIT {
  @TempDir Path tmp;
  @RegisterExtension final AuditCapture audit = new AuditCapture();
  private TestGateway gw;
  private Path home;
  private final Login alice = Login.key("alice", "ed25519");

  @BeforeEach
  void start() throws Exception {
    gw = TestGateway.start(tmp.resolve("gw"), TestGateway.settings(null).toBuilder().uploadMode(UploadMode.ATOMIC).build(),
        TestGateway.user("alice", "ed25519"));
    home = Files.createDirectories(gw.home("alice"));
  }

  @AfterEach
  void stop() throws Exception {
    gw.close();
  }

  private static Proc.Result ok(Proc.Result r) {
    assertThat(r.exit()).as(r.toString()).isZero();
    return r;
  }

  private List<String> temporaries() throws Exception {
    try (Stream<Path> s = Files.list(home)) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(ConfinedFileSystemAccessor.UPLOAD_PREFIX)).toList();
    }
  }

  private static String sha256(Path p) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
  }

  private Path randomFile(String name, int size) throws Exception {
    byte[] b = new byte[size];
    new Random(size).nextBytes(b);
    return Files.write(tmp.resolve(name), b);
  }

  @Test
  void wholeUploadsArePublishedWithTheirTimesAndNoTemporaryRemains() throws Exception {
    Path src = randomFile("src.bin", 3_000_000);
    Files.setLastModifiedTime(src, FileTime.from(Instant.parse("2020-01-02T03:04:05Z")));
    ok(Clients.sftp(gw, alice, "put -p " + src + " a.bin", "put " + src + " b.bin"));
    assertThat(sha256(home.resolve("a.bin"))).isEqualTo(sha256(src));
    assertThat(sha256(home.resolve("b.bin"))).isEqualTo(sha256(src));
    // put -p sets the times with FSETSTAT on the open handle: they land on what is published.
    assertThat(Files.getLastModifiedTime(home.resolve("a.bin")).toInstant()).isEqualTo(Instant.parse("2020-01-02T03:04:05Z"));
    assertThat(temporaries()).isEmpty();
    // curl (libssh2) and lftp upload the same way.
    ok(Clients.curl(gw, alice, "/c.bin", "-T", src.toString()));
    ok(Clients.lftp(gw, alice, "put " + src + " -o l.bin"));
    assertThat(sha256(home.resolve("c.bin"))).isEqualTo(sha256(src));
    assertThat(sha256(home.resolve("l.bin"))).isEqualTo(sha256(src));
    assertThat(temporaries()).isEmpty();
    assertThat(audit.lines()).anyMatch(l -> l.contains("\"file.write\"") && l.contains("\"path\":\"/a.bin\"") && l.contains("\"result\":\"ok\""));
    // lftp sets the size and time by path before it closes the file: they apply to its upload.
    assertThat(audit.lines()).noneMatch(l -> l.contains("\"setstat\"") && l.contains("\"result\":\"error\""));
  }

  @Test
  void anInterruptedPutLeavesNothingUnderTheNameAndAReplacedFileIntact() throws Exception {
    Path src = randomFile("big.bin", 16 << 20);
    Files.writeString(home.resolve("old.bin"), "the previous version");
    Files.setPosixFilePermissions(home.resolve("old.bin"), PosixFilePermissions.fromString("rw-r-----"));
    Path batch = Files.writeString(tmp.resolve("batch"), "put " + src + " new.bin\nput " + src + " old.bin\n");
    Process sftp = Proc.start(Clients.sftpCommand(gw, alice, batch, "-l", "8000"), Clients.env(alice), tmp.resolve("sftp.log"));
    try {
      // The first upload under way: a temporary grows, and neither it nor new.bin is listed.
      await().atMost(Duration.ofSeconds(60)).until(() -> !temporaries().isEmpty()
          && Files.size(home.resolve(temporaries().get(0))) > 0);
      assertThat(home.resolve("new.bin")).doesNotExist();
      Proc.Result ls = ok(Clients.sftp(gw, alice, "ls -la"));
      assertThat(ls.out()).contains("old.bin").doesNotContain("new.bin").doesNotContain(ConfinedFileSystemAccessor.UPLOAD_PREFIX);
      sftp.destroyForcibly().waitFor();
    } finally {
      sftp.destroyForcibly();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> temporaries().isEmpty());
    assertThat(home.resolve("new.bin")).doesNotExist();
    assertThat(audit.lines()).anyMatch(l -> l.contains("\"file.write\"") && l.contains("\"path\":\"/new.bin\"")
        && l.contains("\"result\":\"interrupted\""));

    // The same with an existing file: cut mid-way, the old version stays whole.
    Path replace = Files.writeString(tmp.resolve("batch2"), "put " + src + " old.bin\n");
    sftp = Proc.start(Clients.sftpCommand(gw, alice, replace, "-l", "8000"), Clients.env(alice), tmp.resolve("sftp2.log"));
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !temporaries().isEmpty()
          && Files.size(home.resolve(temporaries().get(0))) > 0);
      sftp.destroyForcibly().waitFor();
    } finally {
      sftp.destroyForcibly();
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> temporaries().isEmpty());
    assertThat(Files.readString(home.resolve("old.bin"))).isEqualTo("the previous version");

    // Replaced whole, it keeps its mode.
    Path small = randomFile("small.bin", 100_000);
    ok(Clients.sftp(gw, alice, "put " + small + " old.bin"));
    assertThat(sha256(home.resolve("old.bin"))).isEqualTo(sha256(small));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home.resolve("old.bin")))).isEqualTo("rw-r-----");
  }

  @Test
  void resumingAppendingAndReservedNamesAreRefusedWithAClearMessage() throws Exception {
    Path src = randomFile("src.bin", 200_000);
    Files.write(home.resolve("part.bin"), new byte[1000]);
    Proc.Result reput = Clients.sftp(gw, alice, "reput " + src + " part.bin");
    assertThat(reput.exit()).as(reput.toString()).isNotZero();
    assertThat(Files.size(home.resolve("part.bin"))).as("the partial file is untouched").isEqualTo(1000);
    Proc.Result r = ok(Clients.paramiko(gw, alice, """
        client.connect(**kw)
        s = client.open_sftp()
        for mode in ('a', 'r+'):
            try:
                s.open('part.bin', mode).close()
                print(mode, 'opened')
            except IOError as e:
                print(mode, 'refused', e)
        for name in ('%s1234', 'd/%s', '%sx/y'):
            try:
                s.open(name % '.sftp-upload-', 'w').close()
                print('reserved opened')
            except IOError as e:
                print('reserved refused', e)
        with s.open('new.txt', 'wx') as f:
            f.write(b'exclusive')
        try:
            s.open('new.txt', 'wx').close()
            print('x twice opened')
        except IOError as e:
            print('x twice refused', e)
        print('read back', s.open('new.txt').read())
        """));
    assertThat(r.out()).contains("a refused").contains("r+ refused").contains("resuming, appending or writing into an existing file is not possible")
        .doesNotContain("opened").contains("reserved refused").contains("are reserved for uploads in progress")
        .contains("x twice refused").contains("read back b'exclusive'");
    assertThat(r.out().lines().filter(l -> l.startsWith("reserved refused")).count()).isEqualTo(3);
    assertThat(temporaries()).isEmpty();
  }

  @Test
  void aListingRemovesTemporariesAbandonedForADayAndHidesTheOthers() throws Exception {
    Path stale = Files.writeString(home.resolve(ConfinedFileSystemAccessor.UPLOAD_PREFIX + "00000000deadbeef"), "left by a killed pod");
    Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(Duration.ofHours(25))));
    Path fresh = Files.writeString(home.resolve(ConfinedFileSystemAccessor.UPLOAD_PREFIX + "00000000cafebabe"), "another replica's");
    Files.writeString(home.resolve("visible.txt"), "x");
    Proc.Result ls = ok(Clients.sftp(gw, alice, "ls -la"));
    assertThat(ls.out()).contains("visible.txt").doesNotContain(ConfinedFileSystemAccessor.UPLOAD_PREFIX);
    assertThat(stale).doesNotExist();
    assertThat(fresh).exists();
    Proc.Result get = Clients.sftp(gw, alice, "get " + fresh.getFileName() + " " + tmp.resolve("x"));
    assertThat(get.exit()).isNotZero();
    assertThat(Map.of("fresh", Files.readString(fresh))).containsEntry("fresh", "another replica's");
  }
}
