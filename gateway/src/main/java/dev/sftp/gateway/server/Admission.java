package dev.sftp.gateway.server;

import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.audit.AuditLog;
import dev.sftp.gateway.auth.Defender;
import java.net.InetAddress;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.RuntimeSshException;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;

/**
 * Who may connect, decided as a connection's session is made (before the server's identification
 * is sent; a refusal closes the connection at once): banned addresses ({@link Defender}),
 * unauthenticated connections per source address and in all (OpenSSH's {@code MaxStartups}
 * {@code start:rate:full}: past {@code start}, refused with a probability rising from {@code
 * rate}% to 100% at {@code full}). Only authenticated sessions count against {@code maxSessions}
 * and {@code maxSessionsPerAddress}, checked when a session authenticates, so that a flood of connections that never authenticate
 * cannot refuse a user who does. Each refusal is one audit event ({@code connection.refused} or
 * {@code session.refused}) with its reason. A connection not authenticated within the login
 * grace time is closed.
 */
final class Admission implements SessionListener {
  /** Set while the session counts as unauthenticated. */
  private static final AttributeKey<Boolean> PENDING = new AttributeKey<>();
  /** The address the unauthenticated session counts against ({@code maxStartupsPerAddress}). */
  private static final AttributeKey<InetAddress> COUNTED = new AttributeKey<>();
  private static final AttributeKey<Boolean> ADMITTED = new AttributeKey<>();
  private static final AttributeKey<java.util.concurrent.ScheduledFuture<?>> GRACE = new AttributeKey<>();
  /**
   * Ends connections still unauthenticated after the login grace time. MINA's own auth timeout
   * answers with SSH_MSG_DISCONNECT, which waits behind a key exchange that a silent client never
   * starts: the connection stayed open. This closes it outright.
   */
  private static final java.util.concurrent.ScheduledThreadPoolExecutor GRACE_TIMER = graceTimer();

  private static java.util.concurrent.ScheduledThreadPoolExecutor graceTimer() {
    java.util.concurrent.ScheduledThreadPoolExecutor t = new java.util.concurrent.ScheduledThreadPoolExecutor(1, r -> {
      Thread th = new Thread(r, "login-grace");
      th.setDaemon(true);
      return th;
    });
    t.setRemoveOnCancelPolicy(true);
    return t;
  }

  private final java.time.Duration grace;

  private final Defender defender;
  private final int perAddress;
  private final int start;
  private final int rate;
  private final int full;
  private final int maxSessions;
  private final AtomicInteger unauthenticated = new AtomicInteger();
  private final AtomicInteger authenticated = new AtomicInteger();
  private final Map<InetAddress, AtomicInteger> byAddress = new ConcurrentHashMap<>();
  private final int maxPerAddress;
  /** Authenticated sessions per source address. */
  private final Map<InetAddress, AtomicInteger> admittedByAddress = new ConcurrentHashMap<>();
  private static final AttributeKey<InetAddress> ADMITTED_FROM = new AttributeKey<>();

  private final dev.sftp.gateway.fs.Descriptors descriptors;

  /** Set when connections from load balancers tell their clients' addresses (PROXY protocol). */
  private volatile ProxyProtocol proxy;

  void proxy(ProxyProtocol p) {
    this.proxy = p;
  }

  Admission(ServerSettings settings, Defender defender, dev.sftp.gateway.fs.Descriptors descriptors) {
    this.defender = defender;
    this.descriptors = descriptors;
    this.perAddress = settings.maxStartupsPerAddressOrDefault();
    int[] s = ServerSettings.parseStartups(settings.maxStartupsOrDefault());
    this.start = s[0];
    this.rate = s[1];
    this.full = s[2];
    this.maxSessions = settings.maxSessionsOrDefault();
    this.maxPerAddress = settings.maxSessionsPerAddressOrDefault();
    this.grace = java.time.Duration.ofSeconds(settings.loginGraceTimeSecondsOrDefault());
  }

  @Override
  public void sessionCreated(Session session) {
    InetAddress ip = AuditLog.clientIp(session);
    // From a load balancer that will tell the client's address: the ban and the per-address
    // count wait for it (addressTold).
    ProxyProtocol p = proxy;
    if (p != null && p.trusts(ip)) {
      ip = null;
    }
    if (ip != null && defender.banned(ip)) {
      throw new RuntimeSshException("address banned by the defender");
    }
    int all = unauthenticated.incrementAndGet();
    session.setAttribute(PENDING, Boolean.TRUE);
    int mine = ip == null ? 0 : count(session, ip);
    String refusal = null;
    String limit = null;
    if (!descriptors.tryConnection()) {
      refusal = "the server is out of file descriptors";
      limit = "fileDescriptors";
    } else if (ip != null && mine > perAddress) {
      refusal = perAddressRefusal();
      limit = "maxStartupsPerAddress";
    } else if (all > full) {
      refusal = "too many unauthenticated connections (" + full + ")";
      limit = "maxStartups";
    } else if (all > start) {
      int percent = rate + (100 - rate) * (all - start) / Math.max(1, full - start);
      if (ThreadLocalRandom.current().nextInt(100) < percent) {
        refusal = "too many unauthenticated connections (" + (all - 1) + " waiting; refusing " + percent + "% of new ones)";
        limit = "maxStartups";
      }
    }
    if (refusal != null) {
      AuditLog.emit(AuditLog.refusal("connection.refused", session, limit, refusal));
      throw new RuntimeSshException(refusal);
    }
    session.setAttribute(GRACE, GRACE_TIMER.schedule(() -> {
      if (session.getAttribute(PENDING) != null && session.isOpen()) {
        AuditLog.emit(AuditLog.refusal("session.refused", session, "loginGraceTime",
            "not authenticated within the login grace time (" + grace.toSeconds() + " s)"));
        session.close(true);
      }
    }, grace.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
  }

  @Override
  public void sessionEvent(Session session, Event event) {
    if (event != Event.Authenticated) {
      return;
    }
    release(session);
    session.setAttribute(ADMITTED, Boolean.TRUE);
    int all = authenticated.incrementAndGet();
    InetAddress ip = AuditLog.clientIp(session);
    int fromAddress = 0;
    if (ip != null) {
      session.setAttribute(ADMITTED_FROM, ip);
      fromAddress = admittedByAddress.computeIfAbsent(ip, k -> new AtomicInteger()).incrementAndGet();
    }
    String reason = all > maxSessions ? "too many connections (" + maxSessions + ")"
        : fromAddress > maxPerAddress ? "too many connections from this address (" + maxPerAddress + ")"
        : null;
    if (reason != null) {
      AuditLog.emit(AuditLog.refusal("session.refused", session, all > maxSessions ? "maxSessions" : "maxSessionsPerAddress", reason));
      // Not from here: MINA signals this while it holds the session's encoder with its
      // SSH_MSG_USERAUTH_SUCCESS encoded and not yet written, and a message sent now would go out
      // first, out of sequence. Once that lock is free the success has been written.
      GRACE_TIMER.execute(() -> {
        try {
          session.disconnect(SshConstants.SSH2_DISCONNECT_TOO_MANY_CONNECTIONS, reason);
        } catch (java.io.IOException | RuntimeException ex) {
          session.close(true);
        }
      });
    }
  }

  /**
   * Malformed input before authentication (an impossible packet length, a bad MAC) closes the
   * connection at once: MINA would answer with SSH_MSG_DISCONNECT, which waits behind a key
   * exchange that such a client never finishes, and the connection stayed open until the grace
   * time.
   */
  @Override
  public void sessionException(Session session, Throwable t) {
    if (session.getAttribute(PENDING) != null && session.isOpen()) {
      AuditLog.emit(AuditLog.refusal("connection.closed", session, "malformedInput", "malformed input before authentication: " + t.getMessage()));
      session.close(true);
    }
  }

  @Override
  public void sessionClosed(Session session) {
    release(session);
    if (session.removeAttribute(ADMITTED) != null) {
      authenticated.decrementAndGet();
    }
    InetAddress ip = session.removeAttribute(ADMITTED_FROM);
    if (ip != null) {
      admittedByAddress.computeIfPresent(ip, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }
  }

  private String perAddressRefusal() {
    return "too many unauthenticated connections from this address (" + perAddress + ")";
  }

  private int count(Session session, InetAddress ip) {
    session.setAttribute(COUNTED, ip);
    return byAddress.computeIfAbsent(ip, k -> new AtomicInteger()).incrementAndGet();
  }

  /**
   * A load balancer told the client's address (PROXY protocol): the defender's ban and the
   * per-address limit apply to it now. A refusal throws, which ends the connection.
   */
  void addressTold(Session session, java.net.InetSocketAddress client) {
    InetAddress ip = client.getAddress();
    if (defender.banned(ip)) {
      throw new RuntimeSshException("address banned by the defender");
    }
    if (session.getAttribute(PENDING) == null || session.getAttribute(COUNTED) != null) {
      return;
    }
    if (count(session, ip) > perAddress) {
      AuditLog.emit(AuditLog.refusal("connection.refused", session, "maxStartupsPerAddress", perAddressRefusal()));
      throw new RuntimeSshException(perAddressRefusal());
    }
  }

  /** Stops counting a session as unauthenticated (once). */
  private void release(Session session) {
    java.util.concurrent.ScheduledFuture<?> timer = session.removeAttribute(GRACE);
    if (timer != null) {
      timer.cancel(false);
    }
    if (session.removeAttribute(PENDING) == null) {
      return;
    }
    unauthenticated.decrementAndGet();
    InetAddress ip = session.removeAttribute(COUNTED);
    if (ip != null) {
      byAddress.computeIfPresent(ip, (k, n) -> n.decrementAndGet() <= 0 ? null : n);
    }
  }

  /** Unauthenticated connections now. */
  int unauthenticated() {
    return unauthenticated.get();
  }

  /** Authenticated connections now. */
  int authenticated() {
    return authenticated.get();
  }
}
