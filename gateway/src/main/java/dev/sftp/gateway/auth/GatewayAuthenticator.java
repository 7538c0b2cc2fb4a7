package dev.sftp.gateway.auth;

import dev.sftp.gateway.users.GatewayUser;
import dev.sftp.gateway.users.UserRegistry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.gateway.audit.AuditLog;
import java.net.InetAddress;
import java.security.PublicKey;
import java.time.Clock;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.SshConstants;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.server.auth.password.PasswordAuthenticator;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;

/**
 * Password and public key authentication against the {@link UserRegistry}. Unknown, disabled,
 * expired and out-of-range users are refused only after the same hash work a wrong password
 * costs, so that response times do not reveal which users exist.
 *
 * <p>Limits: a connection is closed ("Too many authentication failures", as OpenSSH says it)
 * after {@code maxAuthTries} failed attempts, counted on the session so that no client message
 * resets them (MINA's own count restarts with every SSH_MSG_SERVICE_REQUEST); failures feed the
 * {@link Defender}; passwords are checked on a small bounded pool, never on the I/O threads that
 * carry every session's traffic, and a check that finds the pool's queue full fails at once.
 */
public class GatewayAuthenticator implements PasswordAuthenticator, PublickeyAuthenticator {
  /** The method that authenticated the session ("password" or "publickey"). */
  public static final AttributeKey<String> METHOD = new AttributeKey<>();
  private static final AttributeKey<java.util.concurrent.atomic.AtomicInteger> FAILURES = new AttributeKey<>();
  private static final AttributeKey<Boolean> KEY_FAILURE_COUNTED = new AttributeKey<>();

  private final UserRegistry registry;
  private final Clock clock;
  private final Defender defender;
  private final int maxAuthTries;
  private final java.util.concurrent.Executor passwordChecks;
  private final String dummyHash = PasswordHashes.hashArgon2id("not a password of anybody");

  /**
   * @param defender bans addresses that fail too often
   * @param maxAuthTries failed attempts after which a connection is closed
   * @param passwordChecks where passwords are checked (a bounded pool), or null to check on the
   *     caller's thread
   */
  public GatewayAuthenticator(UserRegistry registry, Clock clock, Defender defender, int maxAuthTries, java.util.concurrent.Executor passwordChecks) {
    this.registry = registry;
    this.clock = clock;
    this.defender = defender;
    this.maxAuthTries = maxAuthTries;
    this.passwordChecks = passwordChecks;
  }

  @Override
  public boolean authenticate(String username, String password, ServerSession session) {
    if (refusedBanned(session)) {
      return false;
    }
    if (passwordChecks == null) {
      return checkPassword(username, password, session);
    }
    org.apache.sshd.server.auth.AsyncAuthException pending = new org.apache.sshd.server.auth.AsyncAuthException();
    try {
      passwordChecks.execute(() -> {
        boolean ok = false;
        try {
          ok = checkPassword(username, password, session);
        } finally {
          pending.setAuthed(ok);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException busy) {
      return conclude(session, username, "password", "server busy: too many password checks waiting", null, false);
    }
    throw pending;
  }

  private boolean checkPassword(String username, String password, ServerSession session) {
    GatewayUser u = registry.get(username);
    String hash = u != null && u.passwordHash() != null ? u.passwordHash() : dummyHash;
    boolean matches = PasswordHashes.verify(hash, password);
    String reason;
    if (u == null) {
      reason = "unknown user";
    } else if (u.passwordHash() == null) {
      reason = "password login not enabled for this user";
    } else if (!matches) {
      reason = "wrong password";
    } else {
      reason = u.refusal(clientIp(session), clock.instant());
    }
    return conclude(session, username, "password", reason, null, true);
  }

  @Override
  public boolean authenticate(String username, PublicKey key, ServerSession session) {
    if (refusedBanned(session)) {
      return false;
    }
    GatewayUser u = registry.get(username);
    String reason;
    if (u == null) {
      reason = "unknown user";
    } else if (!u.hasKey(key)) {
      reason = "key not authorized";
    } else {
      reason = u.refusal(clientIp(session), clock.instant());
    }
    // The defender counts a connection whose keys were refused once, not once per key offered
    // (an agent may offer several before the right one).
    boolean counts = reason != null && session.setAttribute(KEY_FAILURE_COUNTED, Boolean.TRUE) == null;
    return conclude(session, username, "publickey", reason, KeyUtils.getFingerPrint(key), counts);
  }

  /** A connection from an address banned meanwhile (by other connections' failures) ends here. */
  private boolean refusedBanned(ServerSession session) {
    if (!defender.banned(clientIp(session))) {
      return false;
    }
    close(session, SshConstants.SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, "defender", "address banned after too many authentication failures");
    return true;
  }

  private boolean conclude(ServerSession session, String username, String method, String reason, String fingerprint, boolean countsForDefender) {
    if (reason == null) {
      session.setAttribute(METHOD, method);
      return true;
    }
    int failures = session.computeAttributeIfAbsent(FAILURES, k -> new java.util.concurrent.atomic.AtomicInteger()).incrementAndGet();
    ObjectNode e = AuditLog.event("login.failure", session);
    e.put("user", username);
    e.put("method", method);
    e.put("reason", reason);
    e.put("attempt", failures);
    if (fingerprint != null) {
      e.put("key", fingerprint);
    }
    AuditLog.emit(e);
    if (countsForDefender) {
      defender.failed(clientIp(session), username);
    }
    if (failures >= maxAuthTries) {
      close(session, SshConstants.SSH2_DISCONNECT_NO_MORE_AUTH_METHODS_AVAILABLE, "maxAuthTries", "Too many authentication failures");
    }
    return false;
  }

  private static void close(ServerSession session, int reason, String limit, String message) {
    AuditLog.emit(AuditLog.refusal("session.refused", session, limit, message));
    try {
      session.disconnect(reason, message);
    } catch (java.io.IOException | RuntimeException ex) {
      session.close(true);
    }
  }

  static InetAddress clientIp(ServerSession session) {
    return AuditLog.clientIp(session);
  }
}
