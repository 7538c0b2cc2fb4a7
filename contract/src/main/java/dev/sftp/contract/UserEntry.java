package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.List;

/**
 * One user of the gateway as the operator renders it. Never carries a plain password.
 *
 * @param name login name, {@code [a-z_][a-z0-9._-]*}, at most 64 characters, unique per gateway
 * @param passwordHash argon2id ({@code $argon2id$...}) or bcrypt ({@code $2a$}, {@code $2b$},
 *     {@code $2y$}) encoded hash; {@code null} disables password login
 * @param authorizedKeys OpenSSH public key lines ({@code ssh-ed25519 AAAA... comment})
 * @param home the user's home, relative to the gateway's data root, without {@code ..}; the user
 *     sees it as {@code /}
 * @param disabled refuse every login when true
 * @param expiresAt RFC 3339 instant after which logins are refused; {@code null} never expires
 * @param allowedSourceCidrs client address ranges allowed to log in; empty or {@code null} allows
 *     all
 * @param readOnly when true only {@code list} and {@code read} remain, whatever else is granted
 * @param permissions what the user may do in the home; {@code null} means all permissions
 * @param pathRules per-path replacements of {@code permissions}
 * @param limits quotas and bandwidth ({@link UserLimits}); {@code null} for none
 */
@JsonInclude(JsonInclude.Include.NON_EMPTY)
public record UserEntry(
    String name,
    String passwordHash,
    List<String> authorizedKeys,
    String home,
    boolean disabled,
    String expiresAt,
    List<String> allowedSourceCidrs,
    boolean readOnly,
    List<Permission> permissions,
    List<PathRule> pathRules,
    UserLimits limits) {

  /** A user with a home named after them, all permissions and the given credentials. */
  public static UserEntry of(String name, String passwordHash, List<String> authorizedKeys) {
    return new UserEntry(
        name, passwordHash, authorizedKeys, name, false, null, null, false, null, null, null);
  }

  /** Whether a valid user may log in at a given time, whatever the credential. */
  public enum Standing {
    /** Logins are checked as usual. */
    ACTIVE,
    /** {@code disabled}: every login is refused. */
    DISABLED,
    /** Past {@code expiresAt}: every login is refused. */
    EXPIRED
  }

  /** This user's standing at {@code now} ({@code expiresAt} must be valid, as validation ensures). */
  public Standing standing(Instant now) {
    return standing(disabled, expiresAt == null ? null : Instant.parse(expiresAt), now);
  }

  /** The one rule for {@link Standing}, for callers that keep the expiry parsed. */
  public static Standing standing(boolean disabled, Instant expiresAt, Instant now) {
    if (disabled) {
      return Standing.DISABLED;
    }
    return expiresAt != null && !now.isBefore(expiresAt) ? Standing.EXPIRED : Standing.ACTIVE;
  }

  /** The same user, disabled. */
  public UserEntry withDisabled() {
    return new UserEntry(name, passwordHash, authorizedKeys, home, true, expiresAt, allowedSourceCidrs, readOnly, permissions, pathRules, limits);
  }

  /** The same user with other limits. */
  public UserEntry withLimits(UserLimits newLimits) {
    return new UserEntry(name, passwordHash, authorizedKeys, home, disabled, expiresAt, allowedSourceCidrs, readOnly, permissions, pathRules, newLimits);
  }
}
