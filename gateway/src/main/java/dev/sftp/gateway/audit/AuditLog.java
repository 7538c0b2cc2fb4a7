package dev.sftp.gateway.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.ContractJson;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Instant;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.apache.sshd.common.session.Session;

/**
 * Structured audit events: one JSON object per line on the {@value #CATEGORY} logger. Never
 * carries a password, a hash or a key; only fingerprints.
 */
public final class AuditLog {
  public static final String CATEGORY = "sftp.audit";
  private static final Logger LOG = Logger.getLogger(CATEGORY);

  private AuditLog() {}

  /** Starts an event of the given type for a session (which may not be authenticated yet). */
  public static ObjectNode event(String type, Session session) {
    ObjectNode n = ContractJson.mapper().createObjectNode();
    n.put("ts", Instant.now().toString());
    n.put("event", type);
    if (session != null) {
      n.put("session", Long.toHexString(session.getIoSession().getId()));
      if (session.getUsername() != null) {
        n.put("user", session.getUsername());
      }
      n.put("client", clientAddress(session));
    }
    return n;
  }

  /** The client's IP address (no port), or the raw socket address text. */
  public static String clientAddress(Session session) {
    SocketAddress a = session.getIoSession().getRemoteAddress();
    if (a instanceof InetSocketAddress isa && isa.getAddress() != null) {
      return isa.getAddress().getHostAddress();
    }
    return String.valueOf(a);
  }

  public static void emit(ObjectNode event) {
    LOG.log(Level.INFO, event.toString());
  }
}
