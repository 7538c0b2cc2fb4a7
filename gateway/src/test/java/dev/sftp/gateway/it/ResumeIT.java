package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static dev.sftp.gateway.it.OpenSshSftpIT.randomFile;
import static dev.sftp.gateway.it.OpenSshSftpIT.sha256;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Map;
import java.util.Random;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interrupted transfers resume with equal content, with sftp and lftp, also past 4 GiB. */
class ResumeIT {
  @TempDir static Path tmp;
  static TestGateway gw;
  static final Login BOB = Login.key("bob", "ed25519");
  static final long FOUR_GIB = 4L << 30;

  @BeforeAll
  static void start() {
    gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("bob", "ed25519"));
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
  }

  @Test
  void uploadResumesAfterInterruptedTransfer() throws Exception {
    Path src = randomFile(tmp.resolve("local/up.bin"), 48 << 20, 11);
    Path batch = tmp.resolve("up.batch");
    Files.writeString(batch, "put " + src + " up.bin\n");
    Path remote = gw.home("bob").resolve("up.bin");
    // -l limits the rate (Kbit/s) so that the transfer is still running when it is killed.
    Process p = Proc.start(Clients.sftpCommand(gw, BOB, batch, "-l", "40000"), Map.of(), tmp.resolve("up.log"));
    await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(remote) && Files.size(remote) > (4 << 20));
    p.destroyForcibly().waitFor();
    long partial = Files.size(remote);
    assertThat(partial).isLessThan(Files.size(src));
    ok(Clients.sftp(gw, BOB, "reput " + src + " up.bin"));
    assertThat(sha256(remote)).isEqualTo(sha256(src));
  }

  @Test
  void downloadResumesAfterInterruptedTransfer() throws Exception {
    Path remote = randomFile(gw.home("bob").resolve("down.bin"), 24 << 20, 12);
    Path local = tmp.resolve("local/down.bin");
    // A partial download: the first 7 MiB and a bit.
    byte[] all = Files.readAllBytes(remote);
    Files.write(local, Arrays.copyOf(all, (7 << 20) + 123));
    ok(Clients.sftp(gw, BOB, "reget down.bin " + local));
    assertThat(sha256(local)).isEqualTo(sha256(remote));
  }

  @Test
  void lftpResumesInBothDirections() throws Exception {
    Path src = randomFile(tmp.resolve("local/lftp-up.bin"), 9 << 20, 13);
    Path remote = gw.home("bob").resolve("lftp-up.bin");
    Files.write(remote, Arrays.copyOf(Files.readAllBytes(src), 3 << 20));
    ok(Clients.lftp(gw, BOB, "put -c " + src + " -o lftp-up.bin"));
    assertThat(sha256(remote)).isEqualTo(sha256(src));

    Path local = tmp.resolve("local/lftp-down.bin");
    Files.write(local, Arrays.copyOf(Files.readAllBytes(src), (5 << 20) + 7));
    ok(Clients.lftp(gw, BOB, "get -c lftp-up.bin -o " + local));
    assertThat(sha256(local)).isEqualTo(sha256(src));
  }

  /** Sparse files: only the tail past 4 GiB travels, so the test stays small. */
  @Test
  void resumeOffsetsPastFourGibAreExact() throws Exception {
    byte[] tail = new byte[3 << 20];
    new Random(14).nextBytes(tail);
    long total = FOUR_GIB + tail.length + 4096;
    Path remote = gw.home("bob").resolve("huge.bin");
    try (RandomAccessFile f = new RandomAccessFile(remote.toFile(), "rw")) {
      f.setLength(total);
      f.seek(FOUR_GIB + 4096);
      f.write(tail);
    }
    // Download resume: the local copy already holds everything up to 4 GiB + 1 MiB.
    Path local = tmp.resolve("local/huge.bin");
    try (RandomAccessFile f = new RandomAccessFile(local.toFile(), "rw")) {
      f.setLength(FOUR_GIB + 4096 + (1 << 20));
      f.seek(FOUR_GIB + 4096);
      f.write(tail, 0, 1 << 20);
    }
    ok(Clients.sftp(gw, BOB, "reget huge.bin " + local));
    assertThat(Files.size(local)).isEqualTo(total);
    assertThat(readTail(local, tail.length)).isEqualTo(tail);

    // Upload resume with lftp: the server holds 4 GiB + 2 MiB, the client sends the rest.
    Path up = gw.home("bob").resolve("huge-up.bin");
    try (RandomAccessFile f = new RandomAccessFile(up.toFile(), "rw")) {
      f.setLength(FOUR_GIB + 4096 + (2 << 20));
      f.seek(FOUR_GIB + 4096);
      f.write(tail, 0, 2 << 20);
    }
    ok(Clients.lftp(gw, BOB, "put -c " + local + " -o huge-up.bin"));
    assertThat(Files.size(up)).isEqualTo(total);
    assertThat(readTail(up, tail.length)).isEqualTo(tail);
  }

  /** The protocol detail itself, with MINA's client: a write and a read at an offset past 4 GiB. */
  @Test
  void minaClientWritesAndReadsAtOffsetsPastFourGib() throws Exception {
    try (SshClient client = SshClient.setUpDefaultClient()) {
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      client.setKeyIdentityProvider(new FileKeyPairProvider(BOB.key()));
      client.start();
      try (ClientSession s = client.connect("bob", "127.0.0.1", gw.port()).verify(Duration.ofSeconds(20)).getSession()) {
        s.auth().verify(Duration.ofSeconds(20));
        try (SftpClient sftp = SftpClientFactory.instance().createSftpClient(s)) {
          byte[] data = "past four gibibytes".getBytes();
          long offset = FOUR_GIB + 12345;
          try (SftpClient.CloseableHandle h = sftp.open("offset.bin", EnumSet.of(SftpClient.OpenMode.Write, SftpClient.OpenMode.Create))) {
            sftp.write(h, offset, data);
          }
          assertThat(sftp.stat("offset.bin").getSize()).isEqualTo(offset + data.length);
          byte[] back = new byte[data.length];
          try (SftpClient.CloseableHandle h = sftp.open("offset.bin", EnumSet.of(SftpClient.OpenMode.Read))) {
            assertThat(sftp.read(h, offset, back, 0, back.length)).isEqualTo(data.length);
          }
          assertThat(back).isEqualTo(data);
        }
      }
    } finally {
      Files.deleteIfExists(gw.home("bob").resolve("offset.bin"));
    }
  }

  private static byte[] readTail(Path p, int n) throws IOException {
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "r")) {
      byte[] b = new byte[n];
      f.seek(f.length() - n);
      f.readFully(b);
      return b;
    }
  }
}
