package dev.sftp.operator.render;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.ContractValidator;
import dev.sftp.contract.PathRule;
import dev.sftp.contract.Permission;
import dev.sftp.contract.PublicKeyLine;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.ValidationError;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserSpec;
import dev.sftp.operator.status.Reasons;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.function.BiFunction;

/**
 * Turns an {@link SftpUser} and what it references into the contract's {@link UserEntry}, or a
 * reason a person can act on. It reads the referenced Secrets and ConfigMaps, then leaves every
 * rule about the entry to the contract's validator (one set of rules for both sides) and only
 * says where in the SftpUser the offending value came from. Reads through the given lookup only:
 * no client here.
 */
public final class UserResolver {
  public static final String GENERATED_PASSWORD_KEY = "password";

  private UserResolver() {}

  /**
   * Reads referenced objects: their data as text ({@code data} decoded, {@code stringData} of a
   * Secret not yet stored merged in), or null when the object does not exist.
   */
  public interface Lookup {
    Map<String, String> secret(String namespace, String name);

    Map<String, String> configMap(String namespace, String name);
  }

  /**
   * The outcome for one user.
   *
   * @param entry the user as the contract holds it, or null when it cannot be rendered
   * @param reason CamelCase condition reason when {@code entry} is null
   * @param message what to do about it
   * @param fingerprints SHA256 fingerprints of the accepted keys
   */
  public record Resolution(UserEntry entry, String reason, String message, List<String> fingerprints) {
    static Resolution fail(String reason, String message) {
      return new Resolution(null, reason, message, List.of());
    }
  }

  public static String username(SftpUser u) {
    return u.getSpec().username != null ? u.getSpec().username : u.getMetadata().getName();
  }

  /**
   * Where a user's home lies on the gateway's volume, relative to its root. Every namespace has
   * an area of its own, {@code <namespace>/}: the default home is {@code <namespace>/<login>}, a
   * relative {@code spec.home} is taken inside that area, so tenants of different namespaces can
   * never share or reach each other's files. A {@code spec.home} starting with '/' is relative to
   * the volume's root ('/' is all of it): only for users the gateway grants it to ({@link
   * Attachments}: its own namespace, {@code spec.users.adminHomes}). Empty and '.' segments are
   * dropped; '..' is kept for the contract's validator to refuse.
   */
  public static String home(SftpUser u) {
    String h = u.getSpec().home;
    String ns = u.getMetadata().getNamespace();
    if (h == null) {
      return ns + "/" + username(u);
    }
    String rest = String.join("/", java.util.Arrays.stream(h.split("/")).filter(p -> !p.isEmpty() && !p.equals(".")).toList());
    if (adminHome(u)) {
      return rest.isEmpty() ? "." : rest;
    }
    return rest.isEmpty() ? ns : ns + "/" + rest;
  }

  /** Whether the user asks for a home outside its namespace's area (a {@code spec.home} starting with '/'). */
  public static boolean adminHome(SftpUser u) {
    return u.getSpec().home != null && u.getSpec().home.startsWith("/");
  }

  /**
   * The data of a new generated-password Secret ({@code spec.password.generate}): a random
   * password of 24 characters and the login. The operator writes it into the user's namespace;
   * {@code render} keeps it beside the config directory.
   */
  public static Map<String, String> generatedPasswordData(SftpUser u) {
    return Map.of(GENERATED_PASSWORD_KEY, dev.sftp.contract.PasswordHashes.randomPassword(24), "username", username(u));
  }

  public static String generatedPasswordSecret(SftpUser u) {
    return u.getMetadata().getName() + "-password";
  }

  /** A referenced value: the text, or why it cannot be had. */
  private record Value(String text, String reason, String message) {}

  private static Value read(Map<String, String> data, String kind, String name, String key, String what, String ns) {
    String missing = kind.equals("Secret") ? Reasons.SECRET_NOT_FOUND : Reasons.CONFIG_MAP_NOT_FOUND;
    if (data == null) {
      return new Value(null, missing, kind + " " + name + " (" + what + ") does not exist in namespace " + ns);
    }
    if (!data.containsKey(key)) {
      return new Value(null, missing, kind + " " + name + " has no key '" + key + "' (" + what + ")");
    }
    return new Value(data.get(key), null, null);
  }

  /**
   * Resolves a user. {@code hasher} turns a plain password into a hash, and may reuse the hash it
   * made before for the same password (so that an unchanged password causes no churn); it may
   * answer null while the hash is being made (then the user waits, {@code PasswordHashing}).
   */
  public static Resolution resolve(SftpUser u, Lookup lookup, BiFunction<SftpUser, String, String> hasher) {
    SftpUserSpec s = u.getSpec();
    String ns = u.getMetadata().getNamespace();
    // Keys: inline, then from an authorized_keys file.
    List<String> keyLines = new ArrayList<>();
    List<String> keySources = new ArrayList<>();
    if (s.publicKeys != null) {
      for (int i = 0; i < s.publicKeys.size(); i++) {
        keyLines.add(s.publicKeys.get(i));
        keySources.add("spec.publicKeys[" + i + "]");
      }
    }
    if (s.authorizedKeysFrom != null) {
      boolean secret = s.authorizedKeysFrom.secretKeyRef != null;
      SftpUserSpec.KeyRef ref = secret ? s.authorizedKeysFrom.secretKeyRef : s.authorizedKeysFrom.configMapKeyRef;
      String kind = secret ? "Secret" : "ConfigMap";
      Value file = read(secret ? lookup.secret(ns, ref.name) : lookup.configMap(ns, ref.name), kind, ref.name, ref.key, "spec.authorizedKeysFrom", ns);
      if (file.text() == null) {
        return Resolution.fail(file.reason(), file.message());
      }
      String[] lines = file.text().split("\n");
      for (int i = 0; i < lines.length; i++) {
        String t = lines[i].trim();
        if (!t.isEmpty() && !t.startsWith("#")) {
          keyLines.add(t);
          keySources.add("line " + (i + 1) + " of " + kind + " " + ref.name + " key '" + ref.key + "'");
        }
      }
    }
    // Password: a hash is taken as it is, anything else is hashed here.
    String hash = null;
    String passwordSecret = null;
    if (s.password != null) {
      boolean generated = Boolean.TRUE.equals(s.password.generate);
      passwordSecret = generated ? generatedPasswordSecret(u) : s.password.secretKeyRef == null ? null : s.password.secretKeyRef.name;
      String key = generated ? GENERATED_PASSWORD_KEY : s.password.secretKeyRef == null ? null : s.password.secretKeyRef.key;
      if (passwordSecret != null) {
        Value v = read(lookup.secret(ns, passwordSecret), "Secret", passwordSecret, key, "password", ns);
        if (v.text() == null) {
          return Resolution.fail(v.reason(), v.message());
        }
        String value = v.text().strip();
        if (value.isEmpty()) {
          return Resolution.fail(ValidationError.Reason.INVALID_PASSWORD_HASH.conditionReason(), "the password in Secret " + passwordSecret + " is empty");
        }
        hash = looksHashed(value) ? value : hasher.apply(u, value);
        if (hash == null) {
          return Resolution.fail(Reasons.PASSWORD_HASHING, "the password in Secret " + passwordSecret
              + " is being hashed (argon2id); the user is served as soon as that is done");
        }
      }
    }
    List<Permission> perms = s.permissions == null ? null : s.permissions.stream().map(Permission::fromWire).toList();
    List<PathRule> rules = s.pathRules == null ? null : s.pathRules.stream()
        .map(r -> new PathRule(r.path, r.permissions == null ? null : r.permissions.stream().map(Permission::fromWire).toList())).toList();
    dev.sftp.contract.UserLimits limits = null;
    if (s.limits != null) {
      try {
        limits = new dev.sftp.contract.UserLimits(bytes(s.limits.storage, "storage"), s.limits.files,
            bytes(s.limits.uploadBytesPerSecond, "uploadBytesPerSecond"), bytes(s.limits.downloadBytesPerSecond, "downloadBytesPerSecond"));
      } catch (IllegalArgumentException e) {
        return Resolution.fail(ValidationError.Reason.INVALID_LIMIT.conditionReason(), e.getMessage());
      }
    }
    UserEntry entry = new UserEntry(username(u), hash, keyLines.isEmpty() ? null : List.copyOf(keyLines), home(u),
        Boolean.TRUE.equals(s.disabled), s.expiresAt, s.allowedSourceCidrs, Boolean.TRUE.equals(s.readOnly), perms, rules, limits);
    List<ValidationError> errors = ContractValidator.validateUser(ContractJson.mapper().valueToTree(entry), "$");
    if (!errors.isEmpty()) {
      ValidationError e = errors.get(0);
      return Resolution.fail(e.reason().conditionReason(), where(e, keySources, passwordSecret) + ": " + e.message() + hint(e.reason()));
    }
    List<String> fingerprints = keyLines.stream().map(l -> PublicKeyLine.parse(l).sha256Fingerprint()).toList();
    return new Resolution(entry, null, null, fingerprints);
  }

  /** A quantity of bytes (10Gi, 500M, 1.5Ki rounded down), or null when absent. */
  static Long bytes(String quantity, String field) {
    if (quantity == null) {
      return null;
    }
    try {
      java.math.BigDecimal b = io.fabric8.kubernetes.api.model.Quantity.getAmountInBytes(new io.fabric8.kubernetes.api.model.Quantity(quantity));
      if (b.signum() < 0 || b.compareTo(java.math.BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
        throw new ArithmeticException();
      }
      return b.longValue();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("spec.limits." + field + ": '" + quantity + "' is not a quantity of bytes such as 10Gi or 500M");
    }
  }

  static boolean looksHashed(String value) {
    return value.startsWith("$argon2") || value.startsWith("$2");
  }

  /** Where in the SftpUser (or what it references) a contract error's value came from. */
  static String where(ValidationError e, List<String> keySources, String passwordSecret) {
    String p = e.path();
    if (p.startsWith("$.authorizedKeys[")) {
      int i = Integer.parseInt(p.substring("$.authorizedKeys[".length(), p.indexOf(']')));
      return "public key " + (i + 1) + " of " + keySources.size() + " (" + keySources.get(i) + ") is refused";
    }
    return switch (p.indexOf('.', 2) < 0 ? p : p.substring(0, p.indexOf('.', 2))) {
      case "$.passwordHash" -> "the password in Secret " + passwordSecret + " looks like a hash but";
      case "$.name" -> "the login name (spec.username, or the SftpUser's name)";
      case "$.home" -> "spec.home";
      case "$" -> "spec";
      default -> "spec." + p.substring(2);
    };
  }

  private static String hint(ValidationError.Reason r) {
    return switch (r) {
      case NO_CREDENTIALS -> ": set spec.publicKeys, spec.authorizedKeysFrom or spec.password";
      case INVALID_USERNAME -> " (set spec.username)";
      default -> "";
    };
  }

  /** Names of the Secrets a user reads, to find it again when one of them changes. */
  public static TreeSet<String> referencedSecrets(SftpUser u) {
    TreeSet<String> out = new TreeSet<>();
    SftpUserSpec s = u.getSpec();
    if (s == null) {
      return out;
    }
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

  /** The name of the ConfigMap a user reads its keys from, or null. */
  public static String referencedConfigMap(SftpUser u) {
    SftpUserSpec s = u.getSpec();
    return s == null || s.authorizedKeysFrom == null || s.authorizedKeysFrom.configMapKeyRef == null ? null : s.authorizedKeysFrom.configMapKeyRef.name;
  }
}
