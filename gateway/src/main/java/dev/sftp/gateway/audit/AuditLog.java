package dev.sftp.gateway.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.ContractJson;
import java.net.InetSocketAddress;
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

  /**
   * A refusal's event: a connection, login, channel or request refused or ended by a limit, a ban
   * or malformed input. {@code limit} names the setting (the metrics count by it).
   */
  public static ObjectNode refusal(String type, Session session, String limit, String reason) {
    ObjectNode e = event(type, session);
    e.put("limit", limit);
    e.put("reason", reason);
    return e;
  }

  /** The client's IP address (no port), or the raw socket address text. */
  public static String clientAddress(Session session) {
    java.net.InetAddress ip = clientIp(session);
    return ip != null ? ip.getHostAddress() : String.valueOf(session.getIoSession().getRemoteAddress());
  }

  /** The client's address as a load balancer's PROXY header told it, when one did. */
  public static final org.apache.sshd.common.AttributeRepository.AttributeKey<InetSocketAddress> CLIENT =
      new org.apache.sshd.common.AttributeRepository.AttributeKey<>();

  /**
   * The client's IP address: as a trusted PROXY header told it, else the socket's; null when the
   * session is not over IP. Everything that judges or records a client's address asks here.
   */
  public static java.net.InetAddress clientIp(Session session) {
    InetSocketAddress told = session.getAttribute(CLIENT);
    if (told != null) {
      return told.getAddress();
    }
    return session.getIoSession().getRemoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
  }

  private static final java.util.List<java.util.function.Consumer<ObjectNode>> OBSERVERS = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** Sees every event emitted or counted (the metrics), until removed. */
  public static void observe(java.util.function.Consumer<ObjectNode> observer) {
    OBSERVERS.add(observer);
  }

  public static void unobserve(java.util.function.Consumer<ObjectNode> observer) {
    OBSERVERS.remove(observer);
  }

  public static void emit(ObjectNode event) {
    LOG.log(Level.INFO, event.toString());
    count(event);
  }

  /** An event the log leaves out (a repeat it only records once a minute) that observers still see. */
  public static void count(ObjectNode event) {
    for (java.util.function.Consumer<ObjectNode> o : OBSERVERS) {
      o.accept(event);
    }
  }
}
