package dev.sftp.gateway.users;

import dev.sftp.contract.Cidr;
import dev.sftp.contract.ContractJson;
import dev.sftp.contract.Permission;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.ValidationError;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.PublicKey;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.logging.Logger;
import org.apache.sshd.common.config.keys.AuthorizedKeyEntry;
import org.apache.sshd.common.config.keys.PublicKeyEntryResolver;

/**
 * The users the gateway serves now. Replaced as a whole on reload, read without locks. A user
 * entry that cannot be used is left out with a logged reason; the others are unaffected.
 */
public class UserRegistry {
  private static final Logger LOG = Logger.getLogger(UserRegistry.class.getName());

  private volatile Map<String, GatewayUser> users = Map.of();

  private volatile int rejected;

  /** User entries left out at the last load (invalid, or not usable here). */
  public int rejected() {
    return rejected;
  }

  public GatewayUser get(String name) {
    return name == null ? null : users.get(name);
  }

  public Map<String, GatewayUser> all() {
    return users;
  }

  /**
   * Replaces the users. Returns the names of users that were removed or whose entry changed, so
   * that their open sessions can be ended.
   */
  public Set<String> replace(Path dataRoot, List<UserEntry> entries, List<ValidationError> upstreamErrors) {
    for (ValidationError e : upstreamErrors) {
      LOG.warning("user entry ignored: " + e);
    }
    Map<String, GatewayUser> next = new LinkedHashMap<>();
    for (UserEntry e : entries) {
      try {
        next.put(e.name(), compile(dataRoot, e));
      } catch (IllegalArgumentException ex) {
        LOG.warning("user '" + e.name() + "' disabled: " + ex.getMessage());
      }
    }
    Map<String, GatewayUser> previous = users;
    users = Map.copyOf(next);
    Set<String> changed = new java.util.TreeSet<>();
    for (Map.Entry<String, GatewayUser> p : previous.entrySet()) {
      GatewayUser now = next.get(p.getKey());
      if (now == null || !now.digest().equals(p.getValue().digest())) {
        changed.add(p.getKey());
      }
    }
    rejected = entries.size() - next.size() + upstreamErrors.size();
    LOG.info("serving " + next.size() + " users (" + rejected + " entries rejected)");
    return changed;
  }

  /**
   * Makes a validated entry ready for logins. The contract's validator has checked every rule
   * (key types and sizes, ranges, homes) when the entry was loaded: this only converts. What
   * remains here is what only the gateway can judge: a key MINA cannot load, and a home that
   * leaves this gateway's data root once resolved on this machine (defence in depth).
   */
  static GatewayUser compile(Path dataRoot, UserEntry e) {
    List<PublicKey> keys = new ArrayList<>();
    List<String> lines = e.authorizedKeys() == null ? List.of() : e.authorizedKeys();
    for (int i = 0; i < lines.size(); i++) {
      try {
        keys.add(AuthorizedKeyEntry.parseAuthorizedKeyEntry(lines.get(i).trim()).resolvePublicKey(null, PublicKeyEntryResolver.FAILING));
      } catch (Exception ex) {
        throw new IllegalArgumentException("authorizedKeys[" + i + "]: " + ex.getMessage());
      }
    }
    List<Cidr> cidrs = new ArrayList<>();
    if (e.allowedSourceCidrs() != null) {
      for (String c : e.allowedSourceCidrs()) {
        cidrs.add(Cidr.parse(c));
      }
    }
    Set<Permission> perms = e.permissions() == null ? EnumSet.allOf(Permission.class)
        : e.permissions().isEmpty() ? EnumSet.noneOf(Permission.class) : EnumSet.copyOf(e.permissions());
    Path home = dataRoot.resolve(e.home()).normalize();
    if (!home.startsWith(dataRoot.normalize())) {
      throw new IllegalArgumentException("home escapes the data root");
    }
    return new GatewayUser(
        e.name(),
        e.passwordHash(),
        List.copyOf(keys),
        home,
        e.disabled(),
        e.expiresAt() == null ? null : Instant.parse(e.expiresAt()),
        List.copyOf(cidrs),
        e.readOnly(),
        perms,
        e.pathRules() == null ? List.of() : e.pathRules(),
        e.limits(),
        digest(e));
  }

  private static String digest(UserEntry e) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(ContractJson.write(e).getBytes(StandardCharsets.UTF_8)));
    } catch (Exception ex) {
      throw new IllegalStateException(ex);
    }
  }
}
