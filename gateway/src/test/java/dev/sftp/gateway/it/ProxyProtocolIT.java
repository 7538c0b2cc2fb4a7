package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.DefenderSettings;
import dev.sftp.contract.ProxyProtocolSettings;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.UserEntry;
import dev.sftp.gateway.support.AuditCapture;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * PROXY protocol v1 and v2 headers sent by hand before paramiko's SSH on the same socket: the
 * address they tell is the client's for the audit log, users' source rules and the defender;
 * headers from untrusted sources are not believed; Enforced refuses connections without one.
 */
class ProxyProtocolIT {
  @TempDir Path tmp;
  @RegisterExtension final AuditCapture audit = new AuditCapture();

  static ServerSettings settings(String mode, List<String> trusted, DefenderSettings defender) {
    ServerSettings s = TestGateway.settings(null);
    return s.toBuilder().defender(defender).proxyProtocol(new ProxyProtocolSettings(mode, trusted)).build();
  }

  /** Python: login(header, user, password) -> 'ok' or the error; headers built by v1()/v2(). */
  static final String PY = """
      import socket, struct, ipaddress
      SIG = b'\\r\\n\\r\\n\\x00\\r\\nQUIT\\n'
      def v1(line):
          return line.encode() + b'\\r\\n'
      def v2(cmd, src=None, sport=0):
          if src is None:
              return SIG + bytes([0x20 | cmd, 0x00]) + struct.pack('>H', 0)
          a = ipaddress.ip_address(src)
          if a.version == 4:
              body = a.packed + ipaddress.ip_address('10.0.0.1').packed + struct.pack('>HH', sport, 2222)
              return SIG + bytes([0x20 | cmd, 0x11]) + struct.pack('>H', len(body)) + body
          body = a.packed + ipaddress.ip_address('2001:db8::1').packed + struct.pack('>HH', sport, 2222)
          return SIG + bytes([0x20 | cmd, 0x21]) + struct.pack('>H', len(body) + 3) + body + b'\\x00\\x00\\x00'
      def login(header, user=os.environ['USER_NAME'], password=os.environ['PASSWORD'], trickle=False):
          s = socket.create_connection(('127.0.0.1', int(os.environ['PORT'])), timeout=20)
          if header and trickle:
              import time
              for b in header:
                  s.send(bytes([b]))
                  time.sleep(0.005)
          elif header:
              s.sendall(header)
          t = paramiko.Transport(s)
          try:
              t.start_client(timeout=20)
              t.auth_password(user, password)
              sftp = paramiko.SFTPClient.from_transport(t)
              sftp.listdir('.')
              return 'ok'
          except Exception as e:
              return '%s: %s' % (type(e).__name__, e)
          finally:
              t.close()
      """;

  @Test
  void theToldAddressIsTheClientsForAuditRulesAndTheDefender() throws Exception {
    UserEntry alice = TestGateway.user("alice", "ed25519");
    UserEntry ranged = new UserEntry("ranged", alice.passwordHash(), alice.authorizedKeys(), "ranged", false, null, List.of("203.0.113.0/24"), false, null, null, null);
    try (TestGateway gw = TestGateway.start(tmp.resolve("optional"), settings("Optional", List.of("127.0.0.0/8"), new DefenderSettings(true, 2, 600, 600, null)),
        alice, ranged)) {
      Files.createDirectories(gw.home("alice"));
      Files.createDirectories(gw.home("ranged"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.password("alice", TestGateway.PASSWORD), PY + """
          print('v1 tcp4', login(v1('PROXY TCP4 203.0.113.7 10.0.0.1 51234 2222')))
          print('v2 tcp6', login(v2(1, '2001:db8::7', 40000)))
          print('v2 local', login(v2(0)))
          print('v2 trickled', login(v2(1, '192.0.2.44', 7), trickle=True))
          print('v1 trickled', login(v1('PROXY TCP6 2001:db8::45 2001:db8::1 7 2222'), trickle=True))
          print('v1 unknown', login(v1('PROXY UNKNOWN')))
          print('no header', login(None))
          print('ranged inside', login(v1('PROXY TCP4 203.0.113.9 10.0.0.1 1 2222'), 'ranged'))
          print('ranged outside', login(v1('PROXY TCP4 198.51.100.1 10.0.0.1 1 2222'), 'ranged'))
          for i in range(2):
              login(v1('PROXY TCP4 198.51.100.66 10.0.0.1 1 2222'), 'alice', 'wrong')
          print('banned', login(v1('PROXY TCP4 198.51.100.66 10.0.0.1 1 2222')))
          print('neighbour', login(v1('PROXY TCP4 198.51.100.67 10.0.0.1 1 2222')))
          print('balancer itself', login(None))
          print('bad v1', login(v1('PROXY TCP4 example.com 10.0.0.1 1 2222')))
          """));
      System.out.println("ProxyProtocolIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).contains("v1 tcp4 ok").contains("v2 tcp6 ok").contains("v2 local ok").contains("v2 trickled ok").contains("v1 trickled ok").contains("v1 unknown ok").contains("no header ok")
          .contains("ranged inside ok").containsPattern("ranged outside \\w*(Exception|Error)").containsPattern("banned \\w*(Exception|Error)")
          .contains("neighbour ok").contains("balancer itself ok").containsPattern("bad v1 \\w*(Exception|Error)");
      assertThat(audit.lines()).anyMatch(l -> l.contains("\"login.success\"") && l.contains("\"client\":\"203.0.113.7\""))
          .anyMatch(l -> l.contains("\"login.success\"") && l.contains("\"client\":\"2001:db8:0:0:0:0:0:7\""))
          .anyMatch(l -> l.contains("\"defender.ban\"") && l.contains("\"client\":\"198.51.100.66\""))
          .anyMatch(l -> l.contains("\"login.success\"") && l.contains("\"client\":\"192.0.2.44\""))
          .anyMatch(l -> l.contains("\"login.success\"") && l.contains("\"client\":\"2001:db8:0:0:0:0:0:45\""))
          .noneMatch(l -> l.contains("\"defender.ban\"") && l.contains("127.0.0.1"))
          .anyMatch(l -> l.contains("\"connection.closed\"") && l.contains("PROXY protocol: PROXY v1 header with a bad address"));
    }
  }

  @Test
  void enforcedRefusesConnectionsWithoutAHeaderAndUntrustedSourcesAreNotBelieved() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("enforced"), settings("Enforced", List.of("127.0.0.0/8"), null), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.password("alice", TestGateway.PASSWORD), PY + """
          print('with header', login(v2(1, '192.0.2.10', 1)))
          print('without', login(None))
          """));
      System.out.println("ProxyProtocolIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).contains("with header ok").containsPattern("without \\w*(Exception|Error)");
      assertThat(audit.lines()).anyMatch(l -> l.contains("\"connection.closed\"") && l.contains("no PROXY protocol header from the load balancer"));
    }
    try (TestGateway gw = TestGateway.start(tmp.resolve("untrusted"), settings("Optional", List.of("10.9.9.9/32"), null), TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      Proc.Result r = ok(Clients.paramiko(gw, Login.password("alice", TestGateway.PASSWORD), PY + """
          print('spoofed', login(v1('PROXY TCP4 203.0.113.7 10.0.0.1 51234 2222')))
          print('plain', login(None))
          """));
      System.out.println("ProxyProtocolIT: " + r.out().replace('\n', ' '));
      assertThat(r.out()).containsPattern("spoofed \\w*(Exception|Error)").contains("plain ok");
      assertThat(audit.lines()).noneMatch(l -> l.contains("203.0.113.7"));
    }
  }
}
