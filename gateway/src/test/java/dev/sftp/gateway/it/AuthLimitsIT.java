package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.DefenderSettings;
import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Password guessing against the gateway, by paramiko (whose every auth_password sends a new
 * SSH_MSG_SERVICE_REQUEST, which reset MINA's own count): a connection gets maxAuthTries
 * attempts, an address that keeps failing is banned and refused before the banner, an
 * allow-listed one never is, and a transfer started before a flood of guesses completes intact.
 */
class AuthLimitsIT {
  @TempDir Path tmp;
  @org.junit.jupiter.api.extension.RegisterExtension final dev.sftp.gateway.support.AuditCapture auditCapture = new dev.sftp.gateway.support.AuditCapture();
  final List<String> audit = auditCapture.lines();

  static ServerSettings settings(Integer maxAuthTries, DefenderSettings defender) {
    ServerSettings s = TestGateway.settings(null);
    return s.toBuilder().maxAuthTries(maxAuthTries).defender(defender).build();
  }

  /** Guesses on one connection until the server ends it; prints how many it got. */
  static final String GUESSES = """
      t = paramiko.Transport(('127.0.0.1', int(os.environ['PORT'])))
      t.start_client(timeout=20)
      tried = 0
      for i in range(40):
          try:
              t.auth_password(os.environ['USER_NAME'], 'wrong-%d' % i)
          except paramiko.AuthenticationException:
              tried += 1
              continue
          except Exception as e:
              break
      print('tried', tried, 'active', t.is_active())
      """;

  static int tried(Proc.Result r) {
    Matcher m = Pattern.compile("tried (\\d+) active (\\w+)").matcher(r.out());
    assertThat(m.find()).as(r.toString()).isTrue();
    assertThat(m.group(2)).as("the connection is closed").isEqualTo("False");
    return Integer.parseInt(m.group(1));
  }

  @Test
  void aConnectionGetsMaxAuthTriesGuessesWhateverItSends() throws Exception {
    DefenderSettings off = new DefenderSettings(false, null, null, null, null);
    try (TestGateway gw = TestGateway.start(tmp.resolve("d"), settings(null, off), TestGateway.user("alice", "ed25519"))) {
      int tried = tried(Clients.paramiko(gw, Login.password("alice", "x"), GUESSES));
      System.out.println("AuthLimitsIT: paramiko got " + tried + " password guesses on one connection (default maxAuthTries 6)");
      assertThat(tried).isEqualTo(6);
    }
    try (TestGateway gw = TestGateway.start(tmp.resolve("three"), settings(3, off), TestGateway.user("alice", "ed25519"))) {
      assertThat(tried(Clients.paramiko(gw, Login.password("alice", "x"), GUESSES))).isEqualTo(3);
      assertThat(audit).anyMatch(l -> l.contains("\"session.refused\"") && l.contains("Too many authentication failures"));
      // The right password still works on a new connection.
      ok(Clients.paramiko(gw, Login.password("alice", TestGateway.PASSWORD), "client.connect(**kw)\nprint('in')"));
    }
  }

  /**
   * OpenSSH keeps one service for all its attempts (and opens with a "none" request): with
   * maxAuthTries above 6 it gets exactly that many password guesses, not MINA's fixed 6.
   */
  @Test
  void openSshGetsExactlyMaxAuthTriesGuesses() throws Exception {
    DefenderSettings off = new DefenderSettings(false, null, null, null, null);
    try (TestGateway gw = TestGateway.start(tmp.resolve("eight"), settings(8, off), TestGateway.user("alice", "ed25519"))) {
      Proc.Result r = Clients.sftpWith(gw, Login.password("alice", "wrong"), List.of("-o", "NumberOfPasswordPrompts=20"), "pwd");
      assertThat(r.exit()).isNotZero();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(audit).anyMatch(l -> l.contains("\"session.refused\"") && l.contains("Too many authentication failures")));
      long guesses = audit.stream().filter(l -> l.contains("\"login.failure\"") && l.contains("\"method\":\"password\"")).count();
      System.out.println("AuthLimitsIT: OpenSSH got " + guesses + " password guesses with maxAuthTries 8");
      assertThat(guesses).isEqualTo(8);
    }
  }

  @Test
  void anAddressThatKeepsFailingIsBannedAndRefusedBeforeTheBannerButNotIfAllowListed() throws Exception {
    DefenderSettings defender = new DefenderSettings(true, 8, 600, 600, null);
    try (TestGateway gw = TestGateway.start(tmp.resolve("ban"), settings(4, defender), TestGateway.user("alice", "ed25519"))) {
      // Two connections of 4 wrong passwords: the 8th failure bans 127.0.0.1.
      tried(Clients.paramiko(gw, Login.password("alice", "x"), GUESSES));
      tried(Clients.paramiko(gw, Login.password("alice", "x"), GUESSES));
      assertThat(gw.server().defender().bannedCount()).isEqualTo(1);
      assertThat(audit).anyMatch(l -> l.contains("\"defender.ban\"") && l.contains("\"client\":\"127.0.0.1\""));
      // Refused as soon as accepted: not even the server's identification is sent.
      Proc.Result banner = Clients.paramiko(gw, Login.password("alice", TestGateway.PASSWORD), """
          import socket
          try:
              s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), timeout=10)
              print('banner', repr(s.recv(256)))
          except (ConnectionResetError, BrokenPipeError):
              print('banner reset')
          """);
      assertThat(banner.out()).as(banner.toString()).containsAnyOf("banner b''", "banner reset").doesNotContain("SSH-2.0");
      // Refusals hold nothing: 300 more connections from the banned address leave no descriptor.
      long fdsBefore;
      try (var fds = Files.list(Path.of("/proc/self/fd"))) {
        fdsBefore = fds.count();
      }
      ok(Clients.paramiko(gw, Login.password("alice", TestGateway.PASSWORD), """
          import socket
          for i in range(300):
              s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), timeout=10)
              try:
                  assert s.recv(256) == b''
              except ConnectionResetError:
                  pass
              s.close()
          """));
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).untilAsserted(() -> {
        try (var fds = Files.list(Path.of("/proc/self/fd"))) {
          assertThat(fds.count()).isLessThan(fdsBefore + 20);
        }
      });
      // The right password from a banned address is refused too (OpenSSH's sftp).
      Proc.Result r = Clients.sftp(gw, Login.key("alice", "ed25519"), "pwd");
      assertThat(r.exit()).isNotZero();
      assertThat(audit).anyMatch(l -> l.contains("\"connection.refused\"") && l.contains("banned"));
    }
    DefenderSettings allowing = new DefenderSettings(true, 2, 600, 600, List.of("127.0.0.0/8"));
    try (TestGateway gw = TestGateway.start(tmp.resolve("allow"), settings(4, allowing), TestGateway.user("alice", "ed25519"))) {
      for (int i = 0; i < 3; i++) {
        tried(Clients.paramiko(gw, Login.password("alice", "x"), GUESSES));
      }
      assertThat(gw.server().defender().bannedCount()).isZero();
      ok(Clients.sftp(gw, Login.key("alice", "ed25519"), "pwd"));
    }
  }

  /**
   * Password checks run on their own bounded pool: a flood of guesses on many connections (each
   * an argon2id verification) while a download runs; the download completes, intact.
   */
  @Test
  void aFloodOfGuessesDoesNotStopATransfer() throws Exception {
    DefenderSettings off = new DefenderSettings(false, null, null, null, null);
    try (TestGateway gw = TestGateway.start(tmp.resolve("flood"), settings(null, off), TestGateway.user("alice", "ed25519"))) {
      Path home = Files.createDirectories(gw.home("alice"));
      Path big = OpenSshSftpIT.randomFile(home.resolve("big.bin"), 64 << 20, 7);
      List<Thread> flood = new ArrayList<>();
      List<Integer> guesses = Collections.synchronizedList(new ArrayList<>());
      for (int i = 0; i < 8; i++) {
        Thread t = new Thread(() -> {
          for (int c = 0; c < 5; c++) {
            guesses.add(tried(Clients.paramiko(gw, Login.password("alice", "x"), GUESSES)));
          }
        });
        t.start();
        flood.add(t);
      }
      Path got = tmp.resolve("got.bin");
      Proc.Result r = ok(Clients.sftp(gw, Login.key("alice", "ed25519"), "get big.bin " + got));
      for (Thread t : flood) {
        t.join();
      }
      assertThat(OpenSshSftpIT.sha256(got)).isEqualTo(OpenSshSftpIT.sha256(big));
      int total = guesses.stream().mapToInt(Integer::intValue).sum();
      System.out.println("AuthLimitsIT: " + total + " guesses on " + guesses.size() + " connections during a 64 MiB download; " + r.exit());
      assertThat(total).isEqualTo(8 * 5 * 6);
    }
  }

  static ServerSettings startups(int graceSeconds, String maxStartups, int perAddress) {
    ServerSettings s = TestGateway.settings(null);
    return s.toBuilder().defender(new DefenderSettings(false, null, null, null, null)).loginGraceTimeSeconds(graceSeconds)
        .maxStartups(maxStartups).maxStartupsPerAddress(perAddress).build();
  }

  /** Opens idle connections from an address, reports how many got the server's identification, holds them, then how many the server closed. */
  static final String IDLE = """
      import socket, time
      src, n, hold = os.environ['SRC'], int(os.environ['N']), float(os.environ['HOLD'])
      admitted, refused = [], 0
      for i in range(n):
          s = socket.socket()
          s.bind((src, 0))
          s.settimeout(5)
          s.connect(('127.0.0.1', int(os.environ['PORT'])))
          try:
              data = s.recv(64)
          except (ConnectionResetError, socket.timeout):
              data = b''
          if data.startswith(b'SSH-2.0'):
              admitted.append(s)
          else:
              refused += 1
              s.close()
      print('admitted', len(admitted), 'refused', refused, flush=True)
      time.sleep(hold)
      closed = 0
      for s in admitted:
          try:
              s.settimeout(0.5)
              while True:  # what is left of the server's first packets, then the end
                  if s.recv(65536) == b'':
                      closed += 1
                      break
          except ConnectionResetError:
              closed += 1
          except socket.timeout:
              pass
      print('closed', closed)
      """;

  static Proc.Result idle(TestGateway gw, String source, int n, int holdSeconds) {
    return Proc.run(List.of("/usr/bin/python3", "-c", "import os\n" + IDLE),
        java.util.Map.of("PORT", String.valueOf(gw.port()), "SRC", source, "N", String.valueOf(n), "HOLD", String.valueOf(holdSeconds)),
        null, java.time.Duration.ofSeconds(120));
  }

  /**
   * 200 idle connections from one address: 10 wait for authentication, the others are closed at
   * once; a user from another address logs in meanwhile; the login grace time closes the 10.
   */
  @Test
  void idleConnectionsFromOneAddressNeitherLockOthersOutNorStay() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("idle"), startups(8, "20:30:40", 10), TestGateway.user("alice", "ed25519"))) {
      java.util.concurrent.atomic.AtomicReference<Proc.Result> attacker = new java.util.concurrent.atomic.AtomicReference<>();
      Thread t = new Thread(() -> attacker.set(idle(gw, "127.0.0.2", 200, 16)));
      t.start();
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).until(() ->
          audit.stream().filter(l -> l.contains("\"connection.refused\"") && l.contains("from this address (10)")).count() >= 190);
      ok(Clients.sftp(gw, Login.key("alice", "ed25519"), "pwd"));
      t.join();
      Proc.Result r = attacker.get();
      System.out.println("AuthLimitsIT: idle connections from one address: " + r.out().replace('\n', ' '));
      assertThat(r.out()).as(r.toString()).contains("admitted 10 refused 190").contains("closed 10");
    }
  }

  /** Past MaxStartups' full, every new unauthenticated connection is refused. */
  @Test
  void maxStartupsFullRefusesEveryNewUnauthenticatedConnection() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("full"), startups(30, "5", 100), TestGateway.user("alice", "ed25519"))) {
      Proc.Result r = idle(gw, "127.0.0.3", 20, 0);
      assertThat(r.out()).as(r.toString()).contains("admitted 5 refused 15");
      assertThat(audit).anyMatch(l -> l.contains("\"connection.refused\"") && l.contains("too many unauthenticated connections (5)"));
    }
  }

  /** One connection's share: channels, and the handles a channel holds open; each refusal is clear. */
  @Test
  void aConnectionOpensAtMostItsChannelsAndAChannelItsHandles() throws Exception {
    ServerSettings s = TestGateway.settings(null);
    ServerSettings limited = s.toBuilder().maxChannelsPerSession(3).maxOpenHandlesPerChannel(20).build();
    try (TestGateway gw = TestGateway.start(tmp.resolve("share"), limited, TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          client.connect(**kw)
          t = client.get_transport()
          chans, refused = [], None
          for i in range(6):
              try:
                  chans.append(paramiko.SFTPClient.from_transport(t))
              except Exception as e:
                  refused = '%s: %s' % (type(e).__name__, e)
                  break
          print('channels', len(chans), 'refused:', refused)
          s = chans[0]
          handles, err = [], None
          for i in range(40):
              try:
                  handles.append(s.open('h-%d' % i, 'w'))
              except IOError as e:
                  err = str(e)
                  break
          print('handles', len(handles), 'error:', err)
          for h in handles:
              h.close()
          s.open('after-close', 'w').close()
          print('open after closing: ok')
          """));
      System.out.println("AuthLimitsIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).contains("channels 3 refused: ChannelException").contains("handles 20 error: Too many open handles: at most 20")
          .contains("open after closing: ok");
    }
  }

  /** A path past PATH_MAX, or of many thousand names, is refused at once with a clear status. */
  @Test
  void overlongPathsAreRefusedClearly() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("paths"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          client.connect(**kw)
          s = client.open_sftp()
          for p in ['a' * 5000, 'a/' * 100000, '/'.join(['..'] * 50000)]:
              try:
                  s.stat(p)
                  print('stat ok', len(p))
              except IOError as e:
                  print('refused', len(p), e)
          s.stat('.')
          print('still served')
          """));
      System.out.println("AuthLimitsIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).doesNotContain("stat ok").contains("refused 5000 Path too long: at most 4096 bytes")
          .contains("refused 200000 Path too long").contains("refused 149999 Path too long").contains("still served");
    }
  }
}
