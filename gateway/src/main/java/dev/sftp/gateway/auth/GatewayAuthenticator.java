package dev.sftp.gateway.auth;

import dev.sftp.gateway.users.GatewayUser;
import dev.sftp.gateway.users.UserRegistry;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.gateway.audit.AuditLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.security.PublicKey;
import java.time.Clock;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.server.auth.password.PasswordAuthenticator;
import org.apache.sshd.server.auth.pubkey.PublickeyAuthenticator;
import org.apache.sshd.server.session.ServerSession;

/**
 * Password and public key authentication against the {@link UserRegistry}. Unknown, disabled,
 * expired and out-of-range users are refused only after the same hash work a wrong password
 * costs, so that response times do not reveal which users exist.
 */
public class GatewayAuthenticator implements PasswordAuthenticator, PublickeyAuthenticator {
  /** The method that authenticated the session ("password" or "publickey"). */
  public static final AttributeKey<String> METHOD = new AttributeKey<>();

  private final UserRegistry registry;
  private final Clock clock;
  private final String dummyHash = PasswordHashes.hashArgon2id("not a password of anybody");

  public GatewayAuthenticator(UserRegistry registry, Clock clock) {
    this.registry = registry;
    this.clock = clock;
  }

  @Override
  public boolean authenticate(String username, String password, ServerSession session) {
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
    return conclude(session, username, "password", reason, null);
  }

  @Override
  public boolean authenticate(String username, PublicKey key, ServerSession session) {
    GatewayUser u = registry.get(username);
    String reason;
    if (u == null) {
      reason = "unknown user";
    } else if (!u.hasKey(key)) {
      reason = "key not authorized";
    } else {
      reason = u.refusal(clientIp(session), clock.instant());
    }
    return conclude(session, username, "publickey", reason, KeyUtils.getFingerPrint(key));
  }

  private boolean conclude(ServerSession session, String username, String method, String reason, String fingerprint) {
    if (reason == null) {
      session.setAttribute(METHOD, method);
      return true;
    }
    ObjectNode e = AuditLog.event("login.failure", session);
    e.put("user", username);
    e.put("method", method);
    e.put("reason", reason);
    if (fingerprint != null) {
      e.put("key", fingerprint);
    }
    AuditLog.emit(e);
    return false;
  }

  static InetAddress clientIp(ServerSession session) {
    return session.getIoSession().getRemoteAddress() instanceof InetSocketAddress isa ? isa.getAddress() : null;
  }
}
