package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.UploadMode;
import dev.sftp.contract.UserLimits;
import dev.sftp.gateway.fs.ConfinedFileSystemAccessor;
import dev.sftp.gateway.support.AuditCapture;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** Quotas and bandwidth per user, met by real clients. */
class QuotaIT {
  @TempDir Path tmp;
  @RegisterExtension final AuditCapture audit = new AuditCapture();

  private static Proc.Result ok(Proc.Result r) {
    assertThat(r.exit()).as(r.toString()).isZero();
    return r;
  }

  private Path file(String name, int size) throws Exception {
    return Files.write(tmp.resolve(name), new byte[size]);
  }

  @Test
  void writesAndCreatesPastTheQuotaFailWithAClearMessageAndRemovalsGiveRoomBack() throws Exception {
    var q = TestGateway.user("q", "ed25519").withLimits(new UserLimits(1_000_000L, 4L, null, null));
    var free = TestGateway.user("free", "ed25519");
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), q, free)) {
      Path home = Files.createDirectories(gw.home("q"));
      // What was on the volume before counts: the home is counted at its first write.
      Files.write(home.resolve("before.bin"), new byte[300_000]);
      ok(Clients.sftp(gw, Login.key("q", "ed25519"), "put " + file("a.bin", 600_000) + " a.bin"));
      // OpenSSH's sftp: the upload fails, the client says so, and what fitted stays (Resume mode).
      Proc.Result over = Clients.sftp(gw, Login.key("q", "ed25519"), "put " + file("b.bin", 600_000) + " b.bin");
      assertThat(over.exit()).as(over.toString()).isNotZero();
      assertThat(over.err()).contains("b.bin");
      assertThat(Files.size(home.resolve("b.bin"))).isLessThanOrEqualTo(100_000);
      assertThat(audit.lines()).anyMatch(l -> l.contains("\"request.refused\"") && l.contains("\"limit\":\"quotaBytes\"")
          && l.contains("Quota exceeded: the home may hold 1000000 bytes"));
      // paramiko shows the server's message; c.bin is the fourth and last file allowed.
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("q", "ed25519"), """
          client.connect(**kw)
          s = client.open_sftp()
          try:
              with s.open('c.bin', 'w') as f:
                  f.write(b'x' * 200000)
              print('c written')
          except IOError as e:
              print('c refused', e)
          try:
              s.open('d.txt', 'w').close()
              print('d created')
          except IOError as e:
              print('d refused', e)
          s.remove('b.bin')
          s.remove('before.bin')
          with s.open('d.txt', 'w') as f:
              f.write(b'y' * 300000)
          print('d written', s.stat('d.txt').st_size)
          s.symlink('d.txt', 'e.lnk')
          print('e linked')
          try:
              s.open('f.txt', 'w').close()
              print('f created')
          except IOError as e:
              print('f refused', e)
          """));
      assertThat(r.out()).contains("c refused").contains("Quota exceeded: the home may hold 1000000 bytes")
          .contains("d refused")
          .contains("d written 300000").contains("e linked").contains("f refused").contains("Quota exceeded: the home may hold 4 files");
      // The count kept through all of it is what the home holds: a.bin, c.bin (what fitted), d.txt, e.lnk.
      long[] real = new long[2];
      try (Stream<Path> all = Files.walk(home)) {
        all.filter(p -> !Files.isDirectory(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).forEach(p -> {
          real[0]++;
          real[1] += Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS) ? p.toFile().length() : 0;
        });
      }
      assertThat(real[0]).isEqualTo(4);
      assertThat(gw.server().quotas().known(home).files()).isEqualTo(real[0]);
      assertThat(gw.server().quotas().known(home).bytes()).isEqualTo(real[1]);
      // Another user is not limited by it.
      Files.createDirectories(gw.home("free"));
      ok(Clients.sftp(gw, Login.key("free", "ed25519"), "put " + file("big.bin", 3_000_000) + " big.bin"));
    }
  }

  @Test
  void inAtomicModeAnUploadPastTheQuotaIsDiscardedWhole() throws Exception {
    var q = TestGateway.user("q", "ed25519").withLimits(new UserLimits(1_000_000L, null, null, null));
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.settings(null).toBuilder().uploadMode(UploadMode.ATOMIC).build(), q)) {
      Path home = Files.createDirectories(gw.home("q"));
      Files.writeString(home.resolve("keep.txt"), "old");
      Proc.Result over = Clients.sftp(gw, Login.key("q", "ed25519"), "put " + file("big.bin", 1_500_000) + " keep.txt");
      assertThat(over.exit()).isNotZero();
      assertThat(Files.readString(home.resolve("keep.txt"))).isEqualTo("old");
      try (Stream<Path> s = Files.list(home)) {
        assertThat(s.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith(ConfinedFileSystemAccessor.UPLOAD_PREFIX));
      }
      assertThat(gw.server().quotas().known(home).bytes()).isEqualTo(3);
      ok(Clients.sftp(gw, Login.key("q", "ed25519"), "put " + file("fits.bin", 900_000) + " keep.txt"));
      assertThat(Files.size(home.resolve("keep.txt"))).isEqualTo(900_000);
      assertThat(gw.server().quotas().known(home).bytes()).isEqualTo(900_000);
      assertThat(gw.server().quotas().known(home).files()).isEqualTo(1);
    }
  }

  /** What a home's count says against what a walk of it finds (bytes). */
  private static long walkedBytes(Path home) throws Exception {
    try (Stream<Path> all = Files.walk(home)) {
      return all.filter(p -> Files.isRegularFile(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)).mapToLong(p -> p.toFile().length()).sum();
    }
  }

  /**
   * WinSCP and rclone upload one large file in parts, each through a handle of its own: the file is
   * counted once, so that a file that fits its quota can be uploaded that way.
   */
  @Test
  void twoHandlesWritingPartsOfOneFileCountItOnce() throws Exception {
    var q = TestGateway.user("q", "ed25519").withLimits(new UserLimits(1_000_000L, null, null, null));
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), q)) {
      Path home = Files.createDirectories(gw.home("q"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("q", "ed25519"), """
          client.connect(**kw)
          s = client.open_sftp()
          a = s.open('parts.bin', 'w')
          b = s.open('parts.bin', 'r+')
          # interleaved, as parallel transfers write: the second part first, then the first
          b.seek(400000); b.write(b'b' * 200000)
          a.write(b'a' * 200000)
          b.write(b'b' * 200000)
          a.write(b'a' * 200000)
          a.close(); b.close()
          print('size', s.stat('parts.bin').st_size)
          """));
      assertThat(r.out()).contains("size 800000");
      assertThat(walkedBytes(home)).isEqualTo(800_000);
      assertThat(gw.server().quotas().known(home).bytes()).isEqualTo(800_000);
    }
  }

  /**
   * A hostile tenant tries to make its count smaller than what its home holds: shrinking a file
   * through a second handle and rewriting it through the first (which had seen it long), and
   * shrinking a removed file through a handle kept open (its bytes were given back at removal).
   * Neither frees anything: what does not fit is still refused.
   */
  @Test
  void secondHandlesAndRemovedFilesDoNotShrinkTheCount() throws Exception {
    var q = TestGateway.user("q", "ed25519").withLimits(new UserLimits(1_000_000L, null, null, null));
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), q)) {
      Path home = Files.createDirectories(gw.home("q"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("q", "ed25519"), """
          client.connect(**kw)
          s = client.open_sftp()
          a = s.open('x.bin', 'w')
          for i in range(3):
              a.seek(0); a.write(b'x' * 600000); a.flush()
              c = s.open('x.bin', 'r+'); c.truncate(0); c.close()
          a.seek(0); a.write(b'x' * 600000); a.close()
          # a handle on a file that is then removed, and shrunk
          h = s.open('y.bin', 'w'); h.write(b'y' * 300000); h.flush()
          s.remove('y.bin')
          try:
              h.truncate(0)  # MINA sets a handle's size through its name: gone
          except IOError:
              pass
          h.close()
          try:
              with s.open('z.bin', 'w') as z:
                  z.write(b'z' * 500000)
              print('z written')
          except IOError as e:
              print('z refused', e)
          """));
      assertThat(r.out()).contains("z refused").contains("Quota exceeded");
      assertThat(Files.size(home.resolve("x.bin"))).isEqualTo(600_000);
      long counted = gw.server().quotas().known(home).bytes();
      assertThat(counted).as("the count never says less than the home holds").isGreaterThanOrEqualTo(walkedBytes(home));
      assertThat(counted).isLessThanOrEqualTo(1_000_000);
    }
  }

  @Test
  void bandwidthIsSharedByAllOfAUsersConnections() throws Exception {
    long rate = 256 * 1024;
    var slow = TestGateway.user("slow", "ed25519").withLimits(new UserLimits(null, null, rate, rate));
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), slow)) {
      Path home = Files.createDirectories(gw.home("slow"));
      Path src = file("src.bin", 1 << 20);
      long t0 = System.nanoTime();
      // Two connections at once: together they may not pass the user's rate.
      List<CompletableFuture<Proc.Result>> ups = List.of(
          CompletableFuture.supplyAsync(() -> Clients.sftp(gw, Login.key("slow", "ed25519"), "put " + src + " one.bin")),
          CompletableFuture.supplyAsync(() -> Clients.sftp(gw, Login.key("slow", "ed25519"), "put " + src + " two.bin")));
      for (var f : ups) {
        ok(f.get());
      }
      double upSeconds = (System.nanoTime() - t0) / 1e9;
      t0 = System.nanoTime();
      ok(Clients.sftp(gw, Login.key("slow", "ed25519"), "get one.bin " + tmp.resolve("back.bin")));
      double downSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf("QuotaIT: 2 MiB up in %.2f s, 1 MiB down in %.2f s at %d B/s%n", upSeconds, downSeconds, rate);
      assertThat(Files.size(home.resolve("one.bin")) + Files.size(home.resolve("two.bin"))).isEqualTo(2L << 20);
      // A lower bound only (what the token bucket can have admitted: the rate, one burst, one
      // request of debt per direction); how much slower a loaded machine is does not matter.
      assertThat(upSeconds).isGreaterThan(((2 << 20) - 64 * 1024 - 2 * 262144) / (double) rate);
      assertThat(downSeconds).isGreaterThan(((1 << 20) - 64 * 1024 - 262144) / (double) rate);
    }
  }
}
