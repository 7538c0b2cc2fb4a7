package dev.sftp.gateway.server;

import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;

/** MINA's server, with a way to stop accepting connections while the open ones go on (drain). */
final class GatewaySshServer extends SshServer {
  static GatewaySshServer create() {
    return (GatewaySshServer) ServerBuilder.builder().factory(GatewaySshServer::new).build();
  }

  /** Closes the listening socket; sessions already accepted are not touched. */
  void stopAccepting() {
    if (acceptor != null) {
      acceptor.unbind();
    }
  }
}
