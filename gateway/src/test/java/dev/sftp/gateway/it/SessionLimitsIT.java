package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.DefenderSettings;
import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.RawSftp;
import dev.sftp.gateway.support.TestGateway;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.sftp.common.SftpConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one authenticated client may hold of the gateway, and what happens past it: malformed SFTP
 * messages end their channel only, idle channels hold no thread, a client that stops reading is
 * held by its window, requests pending are bounded by stopping to read, sessions are capped per
 * user and per address, files opened are capped below the process's descriptor limit.
 */
class SessionLimitsIT {
  @TempDir Path tmp;
  @org.junit.jupiter.api.extension.RegisterExtension final dev.sftp.gateway.support.AuditCapture auditCapture = new dev.sftp.gateway.support.AuditCapture();
  final List<String> audit = auditCapture.lines();

  static ServerSettings settings(Integer perUser, Integer perAddress, Integer maxPending) {
    ServerSettings s = TestGateway.settings(null);
    return s.toBuilder().maxSessionsPerUser(perUser).defender(new DefenderSettings(false, null, null, null, null))
        .maxSessionsPerAddress(perAddress).maxPendingRequestBytes(maxPending).build();
  }

  /** Python helpers for raw SFTP on a paramiko channel. */
  static final String RAW = """
      import struct
      def pkt(b):
          return struct.pack('>I', len(b)) + b
      def sstr(b):
          return struct.pack('>I', len(b)) + b
      def recv_exact(ch, n):
          out = b''
          while len(out) < n:
              d = ch.recv(n - len(out))
              if not d:
                  return None
              out += d
          return out
      def reply(ch):
          h = recv_exact(ch, 4)
          if h is None:
              return None
          return recv_exact(ch, struct.unpack('>I', h)[0])
      def sftp_channel(t):
          ch = t.open_session()
          ch.invoke_subsystem('sftp')
          ch.sendall(pkt(b'\\x01' + struct.pack('>I', 3)))
          assert reply(ch)[0] == 2
          return ch
      """;

  /**
   * Lengths no SFTP message can have (negative as Java reads them, past the limit, below the
   * smallest message) end that channel, exit status 11 as OpenSSH's sftp-server, and are audited;
   * the connection and its next channel are served.
   */
  @Test
  void aMalformedMessageLengthEndsItsChannelNotTheConnection() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("lengths"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), RAW + """
          client.connect(**kw)
          t = client.get_transport()
          for n in [0xFFFFFFFF, 0xFFFFFFC0, 0x80000000, 0x7FFFFFFF, 262145, 4, 0]:
              ch = sftp_channel(t)
              ch.settimeout(30)
              ch.sendall(struct.pack('>I', n) + b'\\x11\\x00')
              rest = ch.recv(100)
              print('length', n, 'eof', rest == b'', 'exit', ch.recv_exit_status(), 'transport', t.is_active())
              ch.close()
          s = paramiko.SFTPClient.from_transport(t)
          s.stat('.')
          print('still served')
          """));
      System.out.println("SessionLimitsIT: " + r.out().replace('\n', ' '));
      for (long n : new long[] {0xFFFFFFFFL, 0xFFFFFFC0L, 0x80000000L, 0x7FFFFFFFL, 262145, 4, 0}) {
        assertThat(r.out()).contains("length " + n + " eof True exit 11 transport True");
        assertThat(audit).anyMatch(l -> l.contains("\"channel.closed\"") && l.contains("SFTP message length " + n + " outside 5..262144"));
      }
      assertThat(r.out()).contains("still served");
    }
  }

  /** limits@openssh.com tells the largest message, and a write of the largest told length is accepted. */
  @Test
  void theLimitsExtensionTellsWhatIsAccepted() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("limits"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), RAW + """
          client.connect(**kw)
          t = client.get_transport()
          ch = sftp_channel(t)
          ch.sendall(pkt(b'\\xc8' + struct.pack('>I', 1) + sstr(b'limits@openssh.com')))
          r = reply(ch)
          packet, read, write, handles = struct.unpack('>QQQQ', r[5:37])
          print('limits', packet, read, write, handles)
          ch.sendall(pkt(b'\\x03' + struct.pack('>I', 2) + sstr(b'big') + struct.pack('>II', 0x1a, 0)))
          h = reply(ch)
          assert h[0] == 102, h
          handle = h[5 + 4:]
          data = os.urandom(write)
          ch.sendall(pkt(b'\\x06' + struct.pack('>I', 3) + sstr(handle) + struct.pack('>Q', 0) + sstr(data)))
          st = reply(ch)
          print('write status', struct.unpack('>I', st[5:9])[0], 'sha', hashlib.sha256(data).hexdigest())
          ch.sendall(pkt(b'\\x04' + struct.pack('>I', 4) + sstr(handle)))
          reply(ch)
          """));
      System.out.println("SessionLimitsIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).contains("limits 262144 261120 261120").contains("write status 0");
      String sha = r.out().replaceAll("(?s).*sha ([0-9a-f]{64}).*", "$1");
      assertThat(OpenSshSftpIT.sha256(gw.home("alice").resolve("big"))).isEqualTo(sha);
    }
  }

  /** Channels waiting for requests hold no thread (MINA's request loop held one per channel). */
  @Test
  void idleChannelsHoldNoThread() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("idle"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      List<RawSftp.Channel> channels = new ArrayList<>();
      try {
        for (int i = 0; i < 12; i++) {
          channels.add(new RawSftp.Channel(gw, "alice"));
        }
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
            .untilAsserted(() -> assertThat(requestLoops()).as("threads in an SFTP request loop while every channel is idle").isZero());
        int id = 1;
        for (RawSftp.Channel c : channels) {
          var stat = RawSftp.request(SftpConstants.SSH_FXP_STAT, id++);
          stat.putString(".");
          RawSftp.send(c.toServer, stat);
          assertThat(RawSftp.reply(c.fromServer)[0]).isEqualTo((byte) SftpConstants.SSH_FXP_ATTRS);
        }
      } finally {
        for (RawSftp.Channel c : channels) {
          c.close();
        }
      }
    }
  }

  static long requestLoops() {
    return Thread.getAllStackTraces().values().stream()
        .filter(st -> java.util.Arrays.stream(st).anyMatch(f -> f.getClassName().endsWith("SftpSubsystem") && f.getMethodName().equals("run")))
        .count();
  }

  /**
   * A client that stops reading its replies for longer than MINA's 30 s wait for output space is
   * held by its window and gets every reply once it reads again.
   */
  @Test
  void aClientThatStopsReadingIsHeldByItsWindow() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("slow"), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      byte[] file = new byte[4 << 20];
      new java.util.Random(7).nextBytes(file);
      Files.write(gw.home("alice").resolve("big"), file);
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), RAW + """
          import time
          client.connect(**kw)
          t = client.get_transport()
          ch = sftp_channel(t)
          ch.sendall(pkt(b'\\x03' + struct.pack('>I', 1) + sstr(b'big') + struct.pack('>II', 1, 0)))
          handle = reply(ch)[9:]
          n = 128
          for i in range(n):
              ch.sendall(pkt(b'\\x05' + struct.pack('>I', 100 + i) + sstr(handle) + struct.pack('>QI', i * 32768, 32768)))
          time.sleep(35)
          got = {}
          for i in range(n):
              r = reply(ch)
              if r is None or r[0] != 103:
                  print('reply', i, 'was', None if r is None else r[:40])
                  break
              got[struct.unpack('>I', r[1:5])[0] - 100] = r[9:]
          data = b''.join(got[i] for i in sorted(got))
          print('replies', len(got), 'sha', hashlib.sha256(data).hexdigest())
          """));
      System.out.println("SessionLimitsIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).contains("replies 128 sha " + OpenSshSftpIT.sha256(gw.home("alice").resolve("big")));
    }
  }

  /**
   * Requests sent faster than they are processed (here: reads whose replies are never taken) stop
   * the gateway reading from that connection once it holds its share, instead of filling the
   * heap; the channel that cannot go on is closed with a clear reason, the connection stays.
   */
  @Test
  void pendingRequestsAreBoundedByNotReading() throws Exception {
    int share = 256 * 1024;
    try (TestGateway gw = TestGateway.start(tmp.resolve("pending"), settings(null, null, share), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Files.write(gw.home("alice").resolve("small"), new byte[32768]);
      AtomicLong most = new AtomicLong();
      CompletableFuture<Proc.Result> client = CompletableFuture.supplyAsync(() -> Clients.paramiko(gw, Login.key("alice", "ed25519"), RAW + """
          import time
          client.connect(**kw)
          t = client.get_transport()
          ch = sftp_channel(t)
          ch.sendall(pkt(b'\\x03' + struct.pack('>I', 1) + sstr(b'small') + struct.pack('>II', 1, 0)))
          handle = reply(ch)[9:]
          read = pkt(b'\\x05' + struct.pack('>I', 7) + sstr(handle) + struct.pack('>QI', 0, 32768))
          ch.sendall(read * 20000)
          print('sent 20000')
          got = 0
          while True:
              r = reply(ch)
              if r is None:
                  break
              got += 1
          print('replies', got, 'closed', ch.closed or ch.eof_received)
          s = paramiko.SFTPClient.from_transport(t)
          print('new channel', len(s.read(1) if False else s.listdir('.')))
          """));
      while (!client.isDone()) {
        most.accumulateAndGet(gw.server().pendingRequests().total(), Math::max);
        Thread.sleep(5);
      }
      Proc.Result r = ok(client.get());
      System.out.println("SessionLimitsIT: most pending " + most.get() + "; " + r.out().replace('\n', ' '));
      assertThat(most.get()).as("the share was reached").isGreaterThan(share / 2).isLessThan(share + (1 << 20));
      assertThat(r.out()).contains("sent 20000").contains("closed True").contains("new channel 1");
      assertThat(audit).anyMatch(l -> l.contains("\"channel.closed\"") && l.contains("\"limit\":\"maxPendingRequestBytes\"") && l.contains("Too many requests pending while their replies are not read"));
      assertThat(gw.server().pendingRequests().total()).isZero();
    }
  }

  /** Authenticated sessions per user and per address: the login past either is told which, and audited. */
  @Test
  void sessionsAreCappedPerUserAndPerAddress() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("sessions"), settings(2, 3, null),
        TestGateway.user("alice", "ed25519"), TestGateway.user("bob", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Files.createDirectories(gw.home("bob"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          import logging, time
          said = []
          class Said(logging.Handler):
              def emit(self, record):
                  m = record.getMessage()
                  if 'Disconnect' in m:
                      said.append(m)
          logging.getLogger('paramiko').addHandler(Said())
          logging.getLogger('paramiko').setLevel(logging.INFO)
          def login(user):
              del said[:]
              c = paramiko.SSHClient()
              c.load_host_keys(os.environ['HOSTKEYS'])
              c.set_missing_host_key_policy(paramiko.RejectPolicy())
              k = dict(kw)
              k['username'] = user
              try:
                  c.connect(**k)
                  c.open_sftp().listdir('.')
                  return c, 'ok'
              except Exception as e:
                  time.sleep(0.5)
                  return None, 'refused: %s' % ' '.join(said)
          held = []
          for user in ['alice', 'alice', 'alice', 'bob', 'bob']:
              c, result = login(user)
              print(user, result)
              if c:
                  held.append(c)
          held[0].close()
          for i in range(40):
              c, result = login('bob')
              if c:
                  break
              time.sleep(0.5)
          print('after one left: bob', result)
          """));
      System.out.println("SessionLimitsIT: " + r.out().replace('\n', ' '));
      String[] lines = r.out().strip().split("\n");
      assertThat(lines[0]).isEqualTo("alice ok");
      assertThat(lines[1]).isEqualTo("alice ok");
      assertThat(lines[2]).isEqualTo("alice refused: Disconnect (code 12): Too many concurrent connections (2) - max. allowed: 2");
      assertThat(lines[3]).isEqualTo("bob ok");
      assertThat(lines[4]).isEqualTo("bob refused: Disconnect (code 12): too many connections from this address (3)");
      assertThat(lines[5]).isEqualTo("after one left: bob ok");
      assertThat(audit).anyMatch(l -> l.contains("\"session.refused\"") && l.contains("\"alice\"") && l.contains("too many connections of this user (2)"));
      assertThat(audit).anyMatch(l -> l.contains("\"session.refused\"") && l.contains("\"bob\"") && l.contains("too many connections from this address (3)"));
    }
  }

  /**
   * Files opened for clients stop below the process's descriptor limit, with a clear status; a
   * new login still works then, and opens work again once files are closed.
   */
  @Test
  void openFilesStopBelowTheDescriptorLimit() throws Exception {
    long open;
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      open = s.count();
    }
    long limit = open + 400; // files for clients stop at limit - 128: about 270 from here
    System.setProperty("gateway.fd.limit", String.valueOf(limit));
    try (TestGateway gw = TestGateway.start(tmp.resolve("fds"), TestGateway.user("alice", "ed25519"), TestGateway.user("bob", "ed25519"))) {
      System.clearProperty("gateway.fd.limit");
      Files.createDirectories(gw.home("alice"));
      Files.createDirectories(gw.home("bob"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          import time
          client.connect(**kw)
          s = client.open_sftp()
          handles, err = [], None
          for i in range(1000):
              try:
                  handles.append(s.open('f-%d' % i, 'w'))
              except IOError as e:
                  err = str(e)
                  break
          print('opened', len(handles), 'error:', err)
          other = paramiko.SSHClient()
          other.load_host_keys(os.environ['HOSTKEYS'])
          k = dict(kw)
          k['username'] = 'bob'
          other.connect(**k)
          bob = other.open_sftp()
          bob.stat('.')
          try:
              bob.listdir('.')
              print('bob lists')
          except IOError as e:
              print('bob logs in; listing:', e)
          for h in handles:
              h.close()
          time.sleep(2)
          s.open('after', 'w').close()
          print('open after closing: ok')
          """));
      System.out.println("SessionLimitsIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).containsPattern("opened [1-9][0-9]+ error: The server has too many files open \\(" + (limit - 128) + "\\); try again later")
          .contains("bob logs in; listing: The server has too many files open").contains("open after closing: ok");
    } finally {
      System.clearProperty("gateway.fd.limit");
    }
  }

  /** A packet length no SSH packet can have, before authentication, closes the connection at once. */
  @Test
  void aMalformedPacketBeforeAuthenticationClosesAtOnce() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("preauth"), TestGateway.user("alice", "ed25519"));
        Socket s = new Socket("127.0.0.1", gw.port())) {
      s.setSoTimeout(20_000); // the login grace time is 30 s: closed before that means closed for the packet
      OutputStream out = s.getOutputStream();
      InputStream in = s.getInputStream();
      out.write("SSH-2.0-test\r\n".getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xf0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
      out.flush();
      long t0 = System.nanoTime();
      byte[] buf = new byte[8192];
      try {
        while (in.read(buf) >= 0) {
          // the server's identification and key exchange init, then the end
        }
      } catch (java.net.SocketTimeoutException e) {
        throw new AssertionError("the connection was still open 20 s after a malformed packet", e);
      }
      System.out.println("SessionLimitsIT: closed after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .until(() -> audit.stream().anyMatch(l -> l.contains("\"connection.closed\"") && l.contains("malformed input before authentication")));
    }
  }

  /**
   * Replies waiting for their clients are bounded server-wide: past the budget, READs are answered
   * short, which OpenSSH's sftp and paramiko follow with READs for the rest; the downloads are
   * intact and the replies held stay near the budget.
   */
  @Test
  void repliesPastTheBudgetAreShortReadsThatClientsFollow() throws Exception {
    long budget = 64 * 1024;
    System.setProperty("gateway.memory.pending-requests-bytes", String.valueOf(budget));
    try (TestGateway gw = TestGateway.start(tmp.resolve("replies"), TestGateway.user("alice", "ed25519"))) {
      System.clearProperty("gateway.memory.pending-requests-bytes");
      Files.createDirectories(gw.home("alice"));
      byte[] file = new byte[24 << 20];
      new java.util.Random(11).nextBytes(file);
      Path big = gw.home("alice").resolve("big");
      Files.write(big, file);
      String sha = OpenSshSftpIT.sha256(big);
      AtomicLong most = new AtomicLong();
      Path dl = tmp.resolve("dl");
      Files.createDirectories(dl);
      CompletableFuture<Proc.Result> openssh = CompletableFuture.supplyAsync(() -> Clients.sftp(gw, Login.key("alice", "ed25519"), "get big " + dl.resolve("big")));
      CompletableFuture<Proc.Result> paramiko = CompletableFuture.supplyAsync(() -> Clients.paramiko(gw, Login.key("alice", "ed25519"), """
          client.connect(**kw)
          s = client.open_sftp()
          f = s.open('big', 'r')
          f.prefetch()
          data = f.read()
          print('paramiko sha', hashlib.sha256(data).hexdigest(), len(data))
          """));
      while (!openssh.isDone() || !paramiko.isDone()) {
        most.accumulateAndGet(gw.server().pendingRequests().replies(), Math::max);
        Thread.sleep(2);
      }
      ok(openssh.get());
      Proc.Result p = ok(paramiko.get());
      System.out.println("SessionLimitsIT: most replies held " + most.get() + "; " + p.out().strip());
      assertThat(OpenSshSftpIT.sha256(dl.resolve("big"))).isEqualTo(sha);
      assertThat(p.out()).contains("paramiko sha " + sha + " " + file.length);
      // Each of the two channels may exceed it by one reply being built and its short ones.
      assertThat(most.get()).isLessThanOrEqualTo(budget + 2 * (255 * 1024 + 64));
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20)).until(() -> gw.server().pendingRequests().replies() == 0);
    } finally {
      System.clearProperty("gateway.memory.pending-requests-bytes");
    }
  }
}
