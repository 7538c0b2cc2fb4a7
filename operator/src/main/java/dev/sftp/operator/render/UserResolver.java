package dev.sftp.operator.render;

import dev.sftp.contract.ContractValidator;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.PathRule;
import dev.sftp.contract.Permission;
import dev.sftp.contract.PublicKeyLine;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.ValidationError;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserSpec;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * Turns an {@link SftpUser} and what it references into the contract's {@link UserEntry}, or a
 * reason a person can act on. Reads through the given lookups only: no client here.
 */
public final class UserResolver {
  public static final String GENERATED_PASSWORD_KEY = "password";

  private UserResolver() {}

  /** Reads a key of a Secret or ConfigMap in a namespace; null when the object or key is missing. */
  public interface Lookup {
    /** Decoded value, or null if the object is missing; {@link #MISSING_KEY} if only the key is. */
    String secret(String namespace, String name, String key);

    String configMap(String namespace, String name, String key);
  }

  /** Returned by a lookup when the object exists but not the key. */
  public static final String MISSING_KEY = "\u0000missing-key";

  /**
   * The outcome for one user.
   *
   * @param entry the rendered user, or null when it cannot be served
   * @param reason CamelCase reason when not served (or when served but disabled/expired)
   * @param message what to do about it
   * @param fingerprints SHA256 fingerprints of the accepted keys
   * @param plainPassword the password read from a Secret when it was not a hash (never rendered)
   */
  public record Resolution(UserEntry entry, String reason, String message, List<String> fingerprints, String plainPassword) {
    static Resolution fail(String reason, String message) {
      return new Resolution(null, reason, message, List.of(), null);
    }
  }

  public static String username(SftpUser u) {
    return u.getSpec().username != null ? u.getSpec().username : u.getMetadata().getName();
  }

  public static String home(SftpUser u) {
    return u.getSpec().home != null ? u.getSpec().home : u.getMetadata().getNamespace() + "/" + username(u);
  }

  public static String generatedPasswordSecret(SftpUser u) {
    return u.getMetadata().getName() + "-password";
  }

  /**
   * Resolves a user. {@code hasher} turns a plain password into a hash, and may reuse the hash
   * it made before for the same password (so that an unchanged password causes no churn).
   */
  public static Resolution resolve(SftpUser u, Lookup lookup, BiFunction<SftpUser, String, String> hasher, Instant now) {
    SftpUserSpec s = u.getSpec();
    String ns = u.getMetadata().getNamespace();
    String name = username(u);
    if (!ContractValidator.USER_NAME.matcher(name).matches()) {
      return Resolution.fail("InvalidUsername", "login name '" + name + "' is not valid: use lower-case letters, digits, '.', '_' and '-', starting with a letter or '_' (set spec.username)");
    }
    // Keys: inline and from an authorized_keys file.
    List<String> keyLines = new ArrayList<>();
    if (s.publicKeys != null) {
      keyLines.addAll(s.publicKeys);
    }
    if (s.authorizedKeysFrom != null) {
      SftpUserSpec.KeyRef ref = s.authorizedKeysFrom.secretKeyRef != null ? s.authorizedKeysFrom.secretKeyRef : s.authorizedKeysFrom.configMapKeyRef;
      boolean secret = s.authorizedKeysFrom.secretKeyRef != null;
      String file = secret ? lookup.secret(ns, ref.name, ref.key) : lookup.configMap(ns, ref.name, ref.key);
      String what = (secret ? "Secret " : "ConfigMap ") + ref.name;
      if (file == null) {
        return Resolution.fail(secret ? "SecretNotFound" : "ConfigMapNotFound", what + " (spec.authorizedKeysFrom) does not exist in namespace " + ns);
      }
      if (MISSING_KEY.equals(file)) {
        return Resolution.fail(secret ? "SecretNotFound" : "ConfigMapNotFound", what + " has no key '" + ref.key + "' (spec.authorizedKeysFrom)");
      }
      for (String line : file.split("\n")) {
        String t = line.trim();
        if (!t.isEmpty() && !t.startsWith("#")) {
          keyLines.add(t);
        }
      }
    }
    List<String> fingerprints = new ArrayList<>();
    for (int i = 0; i < keyLines.size(); i++) {
      try {
        fingerprints.add(PublicKeyLine.parse(keyLines.get(i)).sha256Fingerprint());
      } catch (IllegalArgumentException e) {
        return Resolution.fail("InvalidPublicKey", "public key " + (i + 1) + " of " + keyLines.size() + " is refused: " + e.getMessage());
      }
    }
    // Password.
    String hash = null;
    String plain = null;
    if (s.password != null) {
      String secretName = Boolean.TRUE.equals(s.password.generate) ? generatedPasswordSecret(u) : s.password.secretKeyRef == null ? null : s.password.secretKeyRef.name;
      String key = Boolean.TRUE.equals(s.password.generate) ? GENERATED_PASSWORD_KEY : s.password.secretKeyRef == null ? null : s.password.secretKeyRef.key;
      if (secretName != null) {
        String value = lookup.secret(ns, secretName, key);
        if (value == null) {
          return Resolution.fail("SecretNotFound", "Secret " + secretName + " (password) does not exist in namespace " + ns);
        }
        if (MISSING_KEY.equals(value)) {
          return Resolution.fail("SecretNotFound", "Secret " + secretName + " has no key '" + key + "' (password)");
        }
        value = value.strip();
        if (value.startsWith("$argon2") || value.startsWith("$2")) {
          String problem = PasswordHashes.problem(value);
          if (problem != null) {
            return Resolution.fail("InvalidPassword", "the password in Secret " + secretName + " looks like a hash but " + problem);
          }
          hash = value;
        } else if (value.isEmpty()) {
          return Resolution.fail("InvalidPassword", "the password in Secret " + secretName + " is empty");
        } else {
          plain = value;
          hash = hasher.apply(u, value);
        }
      }
    }
    if (hash == null && keyLines.isEmpty()) {
      return Resolution.fail("NoCredentials", "the user has neither public keys nor a password: set spec.publicKeys, spec.authorizedKeysFrom or spec.password");
    }
    String home = home(u);
    if (!ContractValidator.isSafeRelative(home)) {
      return Resolution.fail("InvalidHome", "home '" + home + "' must be a relative path on the gateway's volume, without '..'");
    }
    if (s.expiresAt != null) {
      try {
        Instant.parse(s.expiresAt);
      } catch (DateTimeParseException e) {
        return Resolution.fail("InvalidExpiry", "expiresAt '" + s.expiresAt + "' is not an RFC 3339 time such as 2030-01-31T00:00:00Z");
      }
    }
    List<Permission> perms = s.permissions == null ? null : s.permissions.stream().map(Permission::fromWire).toList();
    List<PathRule> rules = s.pathRules == null ? null : s.pathRules.stream()
        .map(r -> new PathRule(r.path, r.permissions.stream().map(Permission::fromWire).toList())).toList();
    UserEntry entry = new UserEntry(name, hash, keyLines.isEmpty() ? null : List.copyOf(keyLines), home,
        Boolean.TRUE.equals(s.disabled), s.expiresAt, s.allowedSourceCidrs, Boolean.TRUE.equals(s.readOnly), perms, rules);
    List<ValidationError> errors = ContractValidator.validateUser(dev.sftp.contract.ContractJson.mapper().valueToTree(entry), "spec");
    if (!errors.isEmpty()) {
      return Resolution.fail("InvalidSpec", errors.get(0).toString());
    }
    String reason = null;
    String message = null;
    if (Boolean.TRUE.equals(s.disabled)) {
      reason = "Disabled";
      message = "the user is disabled (spec.disabled): logins are refused";
    } else if (s.expiresAt != null && !now.isBefore(Instant.parse(s.expiresAt))) {
      reason = "Expired";
      message = "the user expired at " + s.expiresAt + ": logins are refused; move spec.expiresAt to extend";
    }
    return new Resolution(entry, reason, message, fingerprints, plain);
  }

  /** Decodes a Secret's base64 value. */
  public static String decode(Map<String, String> data, String key) {
    if (data == null || !data.containsKey(key)) {
      return MISSING_KEY;
    }
    return new String(Base64.getDecoder().decode(data.get(key)), StandardCharsets.UTF_8);
  }

  /** Namespaces and names a user reads, to find it again when one of them changes. */
  public static TreeSet<String> referencedSecrets(SftpUser u) {
    TreeSet<String> out = new TreeSet<>();
    SftpUserSpec s = u.getSpec();
    if (s.authorizedKeysFrom != null && s.authorizedKeysFrom.secretKeyRef != null) {
      out.add(s.authorizedKeysFrom.secretKeyRef.name);
    }
    if (s.password != null) {
      if (Boolean.TRUE.equals(s.password.generate)) {
        out.add(generatedPasswordSecret(u));
      } else if (s.password.secretKeyRef != null) {
        out.add(s.password.secretKeyRef.name);
      }
    }
    return out;
  }
}
