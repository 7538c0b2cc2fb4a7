package dev.sftp.gateway.users;

import dev.sftp.contract.Cidr;
import dev.sftp.contract.Permission;
import dev.sftp.contract.PathRule;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.UserLimits;
import java.net.InetAddress;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import org.apache.sshd.common.config.keys.KeyUtils;

/**
 * A user ready for the server: keys parsed, ranges parsed, rules sorted.
 *
 * @param limits quotas and bandwidth (none when absent)
 * @param digest identifies the entry's content, to tell a changed user from an unchanged one
 */
public record GatewayUser(
    String name,
    String passwordHash,
    List<PublicKey> keys,
    Path home,
    boolean disabled,
    Instant expiresAt,
    List<Cidr> allowedSources,
    boolean readOnly,
    Set<Permission> permissions,
    List<PathRule> pathRules,
    UserLimits limits,
    String digest) {

  private static final UserLimits NO_LIMITS = new UserLimits(null, null, null, null);

  public GatewayUser {
    limits = limits == null ? NO_LIMITS : limits;
    List<PathRule> sorted = new ArrayList<>(pathRules);
    sorted.sort(Comparator.comparingInt((PathRule r) -> normalizeRule(r.path()).length()).reversed());
    pathRules = List.copyOf(sorted);
  }

  /** Why a login must be refused now whatever the credential, or null. */
  public String refusal(InetAddress client, Instant now) {
    switch (UserEntry.standing(disabled, expiresAt, now)) {
      case DISABLED -> {
        return "user disabled";
      }
      case EXPIRED -> {
        return "user expired";
      }
      case ACTIVE -> { }
    }
    if (!allowedSources.isEmpty() && (client == null || allowedSources.stream().noneMatch(c -> c.contains(client)))) {
      return "source address not allowed";
    }
    return null;
  }

  public boolean hasKey(PublicKey key) {
    for (PublicKey k : keys) {
      if (KeyUtils.compareKeys(k, key)) {
        return true;
      }
    }
    return false;
  }

  /** Permissions on a path as the user sees it ({@code /incoming/x}). */
  public Set<Permission> permissionsAt(String virtualPath) {
    Set<Permission> base = permissions;
    for (PathRule r : pathRules) {
      String rp = normalizeRule(r.path());
      if (rp.equals("/") || virtualPath.equals(rp) || virtualPath.startsWith(rp + "/")) {
        base = r.permissions().isEmpty() ? EnumSet.noneOf(Permission.class) : EnumSet.copyOf(r.permissions());
        break;
      }
    }
    if (readOnly) {
      Set<Permission> ro = EnumSet.copyOf(Permission.READ_ONLY);
      ro.retainAll(base);
      return ro;
    }
    return base;
  }

  public boolean allows(Permission p, String virtualPath) {
    return permissionsAt(virtualPath).contains(p);
  }

  private static String normalizeRule(String p) {
    String s = p;
    while (s.length() > 1 && s.endsWith("/")) {
      s = s.substring(0, s.length() - 1);
    }
    return s;
  }
}
