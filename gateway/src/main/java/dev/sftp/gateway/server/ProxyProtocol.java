package dev.sftp.gateway.server;

import dev.sftp.contract.Cidr;
import dev.sftp.contract.ProxyProtocolSettings;
import dev.sftp.gateway.audit.AuditLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BiConsumer;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.SshException;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.session.ServerProxyAcceptor;
import org.apache.sshd.server.session.ServerSession;

/**
 * Reads the PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that a load
 * balancer sends before the client's SSH identification, and makes the address it tells the
 * session's client address ({@link AuditLog#CLIENT}): the audit log, users' source CIDR rules, the
 * defender and the per-address limits then see the client, not the load balancer.
 *
 * <p>Only connections from {@code trustedCidrs} may carry a header; from anywhere else the bytes
 * are SSH (and a header there fails as a malformed identification). {@code Enforced}: a trusted
 * source must send a header, and other sources are refused. A v2 {@code LOCAL} command (the
 * balancer's own health check) and a v1 {@code UNKNOWN} keep the socket's address. Addresses are
 * literals only: nothing is ever looked up.
 */
final class ProxyProtocol implements ServerProxyAcceptor {
  /** The v2 signature. */
  static final byte[] V2 = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
  static final byte[] V1 = "PROXY ".getBytes(StandardCharsets.US_ASCII);
  /** A v1 line is at most 107 bytes with its CRLF. */
  static final int V1_MAX = 107;
  /** Address blocks beyond this (TLVs) are skipped; a header claiming more is refused. */
  static final int V2_MAX_LENGTH = 2048;

  private final boolean enforced;
  private final List<Cidr> trusted;
  /** Told once per connection, with the client's address, when a header gave one. */
  private final BiConsumer<ServerSession, InetSocketAddress> onAddress;

  ProxyProtocol(ProxyProtocolSettings s, BiConsumer<ServerSession, InetSocketAddress> onAddress) {
    this.enforced = ProxyProtocolSettings.ENFORCED.equals(s.modeOrDefault());
    this.trusted = s.trustedCidrsOrDefault().stream().map(Cidr::parse).toList();
    this.onAddress = onAddress;
  }

  /** Null when the settings say Off. */
  static ProxyProtocol of(ProxyProtocolSettings s, BiConsumer<ServerSession, InetSocketAddress> onAddress) {
    return ProxyProtocolSettings.OFF.equals(s.modeOrDefault()) ? null : new ProxyProtocol(s, onAddress);
  }

  /** Whether connections from this peer may carry a header (the session's real peer, not a told one). */
  boolean trusts(InetAddress peer) {
    return peer != null && trusted.stream().anyMatch(c -> c.contains(peer));
  }

  @Override
  public boolean acceptServerProxyMetadata(ServerSession session, Buffer buffer) throws Exception {
    InetAddress peer = session.getIoSession().getRemoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
    if (!trusts(peer)) {
      if (enforced) {
        throw refused("a connection that does not come through a trusted load balancer");
      }
      return true;
    }
    byte[] a = buffer.array();
    int p = buffer.rpos();
    int n = buffer.available();
    if (startsWith(a, p, n, V2)) {
      if (n < V2.length) {
        return false;
      }
      return v2(session, buffer, a, p, n);
    }
    if (startsWith(a, p, n, V1)) {
      if (n < V1.length) {
        return false;
      }
      return v1(session, buffer, a, p, n);
    }
    if (enforced) {
      throw refused("no PROXY protocol header from the load balancer");
    }
    return true; // Optional: plain SSH from a trusted source
  }

  /** Whether the available bytes agree with the signature as far as they go. */
  static boolean startsWith(byte[] a, int p, int n, byte[] sig) {
    if (n == 0) {
      return false;
    }
    for (int i = 0; i < Math.min(n, sig.length); i++) {
      if (a[p + i] != sig[i]) {
        return false;
      }
    }
    return true;
  }

  private boolean v2(ServerSession session, Buffer buffer, byte[] a, int p, int n) throws SshException {
    if (n < 16) {
      return false;
    }
    int verCmd = a[p + 12] & 0xff;
    int fam = a[p + 13] & 0xff;
    int len = ((a[p + 14] & 0xff) << 8) | (a[p + 15] & 0xff);
    if (verCmd >> 4 != 2) {
      throw refused("PROXY v2 header of version " + (verCmd >> 4));
    }
    int cmd = verCmd & 0x0f;
    if (cmd > 1) {
      throw refused("PROXY v2 header with command " + cmd);
    }
    if (len > V2_MAX_LENGTH) {
      throw refused("PROXY v2 header of " + len + " bytes");
    }
    if (n < 16 + len) {
      return false;
    }
    InetSocketAddress client = null;
    if (cmd == 1) { // PROXY; LOCAL (0) keeps the socket's address
      int at = p + 16;
      switch (fam) {
        case 0x11 -> { // TCP over IPv4: src, dst, src port, dst port
          need(len, 12, "TCP4");
          client = new InetSocketAddress(address(a, at, 4), port(a, at + 8));
        }
        case 0x21 -> { // TCP over IPv6
          need(len, 36, "TCP6");
          client = new InetSocketAddress(address(a, at, 16), port(a, at + 32));
        }
        case 0x00 -> { } // UNSPEC: the socket's address
        default -> throw refused(String.format("PROXY v2 header of address family 0x%02x (only TCP over IPv4 or IPv6)", fam));
      }
    }
    buffer.rpos(p + 16 + len);
    told(session, client);
    return true;
  }

  private boolean v1(ServerSession session, Buffer buffer, byte[] a, int p, int n) throws SshException {
    int end = -1;
    for (int i = p; i + 1 < p + Math.min(n, V1_MAX); i++) {
      if (a[i] == '\r' && a[i + 1] == '\n') {
        end = i;
        break;
      }
    }
    if (end < 0) {
      if (n < V1_MAX) {
        return false;
      }
      throw refused("PROXY v1 header without its end within " + V1_MAX + " bytes");
    }
    String line = new String(a, p, end - p, StandardCharsets.US_ASCII);
    String[] f = line.split(" ", -1);
    InetSocketAddress client;
    if (f.length >= 2 && f[1].equals("UNKNOWN")) {
      client = null; // the rest of the line is ignored, as the specification says
    } else if (f.length == 6 && (f[1].equals("TCP4") || f[1].equals("TCP6"))) {
      InetAddress src;
      InetAddress dst;
      try {
        src = Cidr.address(f[2]);
        dst = Cidr.address(f[3]);
      } catch (IllegalArgumentException e) {
        throw refused("PROXY v1 header with a bad address: " + e.getMessage());
      }
      boolean v4 = f[1].equals("TCP4");
      if ((src.getAddress().length == 4) != v4 || (dst.getAddress().length == 4) != v4) {
        throw refused("PROXY v1 header whose addresses are not " + f[1]);
      }
      client = new InetSocketAddress(src, port(f[4]));
      port(f[5]);
    } else {
      throw refused("malformed PROXY v1 header");
    }
    buffer.rpos(end + 2);
    told(session, client);
    return true;
  }

  private void told(ServerSession session, InetSocketAddress client) {
    if (client == null || session.getAttribute(AuditLog.CLIENT) != null) {
      return; // LOCAL/UNKNOWN, or called again for the same header (MINA's identification retry)
    }
    session.setAttribute(AuditLog.CLIENT, client);
    onAddress.accept(session, client);
  }

  private static void need(int len, int min, String what) throws SshException {
    if (len < min) {
      throw refused("PROXY v2 " + what + " header of " + len + " address bytes");
    }
  }

  private static InetAddress address(byte[] a, int at, int len) {
    byte[] b = new byte[len];
    System.arraycopy(a, at, b, 0, len);
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException(e); // only for a wrong length
    }
  }

  private static int port(byte[] a, int at) {
    return ((a[at] & 0xff) << 8) | (a[at + 1] & 0xff);
  }

  private static int port(String s) throws SshException {
    if (!s.matches("\\d{1,5}") || Integer.parseInt(s) > 65535) {
      throw refused("PROXY v1 header with a bad port '" + s + "'");
    }
    return Integer.parseInt(s);
  }

  private static SshException refused(String why) {
    return new SshException(SshConstants.SSH2_DISCONNECT_PROTOCOL_ERROR, "PROXY protocol: " + why);
  }
}
