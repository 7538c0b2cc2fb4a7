package dev.sftp.gateway.auth;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.Cidr;
import dev.sftp.contract.DefenderSettings;
import dev.sftp.gateway.audit.AuditLog;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Logger;

/**
 * Bans a source address that fails to authenticate {@code maxFailures} times within a window, for
 * a while; allow-listed addresses are never banned. The server asks {@link #banned} when it
 * accepts a connection and closes a banned one at once, before any key exchange work. Each ban
 * is logged and audited ({@code defender.ban}); refused connections are audited as {@code
 * connection.refused}, at most once a minute per address (a banned flood must not flood the log).
 *
 * <p>An IPv6 address counts as its /64 (one host is given a /64 or more, so its addresses are
 * one), an IPv4 address as itself.
 *
 * <p>Memory is bounded: at most {@value #MAX_TRACKED} addresses are tracked; past that, entries
 * without a ban are dropped (at most once a second, so that a full table does not cost a sweep
 * per failure), and while the table stays full of bans, failures of new addresses are not
 * counted (an attacker with many addresses could then make the defender forget failures, never
 * lift a ban early).
 */
public final class Defender {
  private static final Logger LOG = Logger.getLogger(Defender.class.getName());
  static final int MAX_TRACKED = 100_000;
  private static final Duration REFUSAL_AUDIT_EVERY = Duration.ofMinutes(1);

  private final boolean enabled;
  private final int maxFailures;
  private final Duration window;
  private final Duration ban;
  private final List<Cidr> allow;
  private final Clock clock;
  private final Map<InetAddress, Track> tracked = new ConcurrentHashMap<>();
  private volatile Instant lastSweep = Instant.EPOCH;

  /** The key an address is counted under: IPv6 by its /64. */
  static InetAddress key(InetAddress ip) {
    if (ip instanceof java.net.Inet6Address) {
      byte[] b = ip.getAddress();
      java.util.Arrays.fill(b, 8, 16, (byte) 0);
      try {
        return InetAddress.getByAddress(b);
      } catch (java.net.UnknownHostException e) {
        return ip;
      }
    }
    return ip;
  }

  private static final class Track {
    Instant windowStart;
    int failures;
    Instant bannedUntil;
    Instant lastRefusalAudit;
  }

  public Defender(DefenderSettings s, Clock clock) {
    this.enabled = s.enabledOrDefault();
    this.maxFailures = s.maxFailuresOrDefault();
    this.window = Duration.ofSeconds(s.windowSecondsOrDefault());
    this.ban = Duration.ofSeconds(s.banSecondsOrDefault());
    this.allow = s.allowCidrsOrDefault().stream().map(Cidr::parse).toList();
    this.clock = clock;
  }

  private boolean exempt(InetAddress ip) {
    return !enabled || ip == null || allow.stream().anyMatch(c -> c.contains(ip));
  }

  /** Whether connections from the address are refused now (audited, at most once a minute per address). */
  public boolean banned(InetAddress ip) {
    if (exempt(ip)) {
      return false;
    }
    Track t = tracked.get(key(ip));
    if (t == null) {
      return false;
    }
    Instant now = clock.instant();
    boolean audit;
    Instant until;
    synchronized (t) {
      if (t.bannedUntil == null || !now.isBefore(t.bannedUntil)) {
        return false;
      }
      until = t.bannedUntil;
      audit = t.lastRefusalAudit == null || !now.isBefore(t.lastRefusalAudit.plus(REFUSAL_AUDIT_EVERY));
      if (audit) {
        t.lastRefusalAudit = now;
      }
    }
    ObjectNode e = AuditLog.refusal("connection.refused", null, "defender", "address banned by the defender until " + until);
    e.put("client", ip.getHostAddress());
    if (audit) {
      AuditLog.emit(e);
    } else {
      AuditLog.count(e); // in the metrics, not in the log
    }
    return true;
  }

  /** Counts a failed authentication from the address; bans it when it reaches the limit. */
  public void failed(InetAddress ip, String user) {
    if (exempt(ip)) {
      return;
    }
    InetAddress k = key(ip);
    if (tracked.size() >= MAX_TRACKED && !tracked.containsKey(k)) {
      Instant now = clock.instant();
      if (!now.isBefore(lastSweep.plusSeconds(1))) {
        lastSweep = now;
        tracked.entrySet().removeIf(en -> {
          synchronized (en.getValue()) {
            return en.getValue().bannedUntil == null || !now.isBefore(en.getValue().bannedUntil);
          }
        });
      }
      if (tracked.size() >= MAX_TRACKED) {
        return; // full of bans: this address's failures are not counted
      }
    }
    Track t = tracked.computeIfAbsent(k, x -> new Track());
    Instant now = clock.instant();
    Instant bannedUntil = null;
    int failures;
    synchronized (t) {
      if (t.bannedUntil != null && now.isBefore(t.bannedUntil)) {
        return; // already banned: the connection is being closed
      }
      if (t.windowStart == null || !now.isBefore(t.windowStart.plus(window))) {
        t.windowStart = now;
        t.failures = 0;
      }
      failures = ++t.failures;
      if (failures >= maxFailures) {
        t.bannedUntil = now.plus(ban);
        t.failures = 0;
        t.windowStart = null;
        bannedUntil = t.bannedUntil;
      }
    }
    if (bannedUntil != null) {
      String scope = k instanceof java.net.Inet6Address ? k.getHostAddress() + "/64" : k.getHostAddress();
      LOG.warning("banned " + scope + " until " + bannedUntil + ": " + failures + " failed authentications within " + window.toSeconds() + " s (last as '" + user + "')");
      ObjectNode e = AuditLog.event("defender.ban", null);
      e.put("client", ip.getHostAddress());
      e.put("banned", scope);
      e.put("failures", failures);
      e.put("windowSeconds", window.toSeconds());
      e.put("until", bannedUntil.toString());
      e.put("lastUser", user);
      AuditLog.emit(e);
    }
  }

  /** Addresses tracked now (for tests and metrics). */
  public int trackedCount() {
    return tracked.size();
  }

  /** Addresses banned now (for the log and tests). */
  public int bannedCount() {
    Instant now = clock.instant();
    return (int) tracked.values().stream().filter(t -> {
      synchronized (t) {
        return t.bannedUntil != null && now.isBefore(t.bannedUntil);
      }
    }).count();
  }
}
