package dev.sftp.gateway.server;

import org.apache.sshd.common.SshException;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.server.ServerFactoryManager;
import org.apache.sshd.server.session.ServerSessionImpl;
import org.apache.sshd.server.session.SessionFactory;

/**
 * MINA's server session, except that an impossible packet length before the key exchange ends
 * the connection at once. MINA then keeps reading a few more blocks before it fails, so that a
 * length check cannot be told from a MAC failure (CVE-2008-5161); without a cipher there is
 * nothing to hide, and a client that never sends those blocks held its connection until the
 * login grace time. (OpenSSH disconnects at once there too.)
 */
final class GatewaySession extends ServerSessionImpl {
  GatewaySession(ServerFactoryManager server, IoSession io) throws Exception {
    super(server, io);
  }

  @Override
  protected void decode() throws Exception {
    super.decode();
    SshException pending = discarding;
    if (pending != null && inCipher == null) {
      discarding = null;
      throw pending;
    }
  }

  /** Creates {@link GatewaySession}s. */
  static final class Factory extends SessionFactory {
    Factory(ServerFactoryManager server) {
      super(server);
    }

    @Override
    protected ServerSessionImpl doCreateSession(IoSession io) throws Exception {
      return new GatewaySession(getServer(), io);
    }
  }
}
