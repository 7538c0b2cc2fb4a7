package dev.sftp.contract;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import dev.sftp.contract.ValidationError.Reason;

/**
 * Validates contract documents on their JSON tree, so that every error, type errors included,
 * comes with its JSON path. Document-level errors make a document unusable; user errors disable
 * only that user.
 */
public final class ContractValidator {
  /** Login names: POSIX-portable, lower case, at most 64 characters. */
  public static final Pattern USER_NAME = Pattern.compile("[a-z_][a-z0-9._-]{0,63}");

  private static final Set<String> TOP_FIELDS = Set.of("apiVersion", "kind", "server", "users");
  // The fields a document may carry are the records' components: one list, kept by the compiler.
  private static final Set<String> SERVER_FIELDS = fields(ServerSettings.class);
  private static final Set<String> PROXY_FIELDS = fields(ProxyProtocolSettings.class);
  private static final Set<String> DEFENDER_FIELDS = fields(DefenderSettings.class);
  private static final Set<String> USER_FIELDS = fields(UserEntry.class);
  private static final Set<String> LIMIT_FIELDS = fields(UserLimits.class);
  private static final Set<String> USER_METRICS_FIELDS = fields(UserMetricsSettings.class);
  private static final Pattern UMASK = Pattern.compile("0?[0-7]{3}");

  private ContractValidator() {}

  private static Set<String> fields(Class<? extends Record> type) {
    return java.util.Arrays.stream(type.getRecordComponents()).map(java.lang.reflect.RecordComponent::getName)
        .collect(java.util.stream.Collectors.toUnmodifiableSet());
  }

  /**
   * Checks the envelope of a document ({@code apiVersion}, {@code kind}, fields, server settings,
   * that {@code users} is a list), not the users themselves.
   */
  public static List<ValidationError> validateDocument(JsonNode root, String expectedKind) {
    List<ValidationError> errors = new ArrayList<>();
    if (root == null || !root.isObject()) {
      errors.add(new ValidationError("$", Reason.INVALID_DOCUMENT, "expected a JSON object"));
      return errors;
    }
    Set<String> allowed = expectedKind.equals(GatewayConfig.KIND) ? TOP_FIELDS : Set.of("apiVersion", "kind", "users");
    unknownFields(root, "$", allowed, errors);
    JsonNode apiVersion = root.get("apiVersion");
    if (apiVersion == null || !apiVersion.isTextual()) {
      errors.add(new ValidationError("$.apiVersion", Reason.INVALID_DOCUMENT, "missing; expected '" + GatewayConfig.API_VERSION + "'"));
    } else if (!apiVersion.asText().equals(GatewayConfig.API_VERSION)) {
      errors.add(
          new ValidationError(
              "$.apiVersion",
              Reason.INVALID_DOCUMENT,
              "unsupported version '" + apiVersion.asText() + "'; this gateway reads '"
                  + GatewayConfig.API_VERSION + "'"));
    }
    JsonNode kind = root.get("kind");
    if (kind == null || !kind.isTextual() || !kind.asText().equals(expectedKind)) {
      errors.add(new ValidationError("$.kind", Reason.INVALID_DOCUMENT, "expected '" + expectedKind + "'"));
    }
    JsonNode server = root.get("server");
    if (server != null && !server.isNull()) {
      validateServer(server, "$.server", errors);
    }
    JsonNode users = root.get("users");
    if (users != null && !users.isNull() && !users.isArray()) {
      errors.add(new ValidationError("$.users", Reason.INVALID_DOCUMENT, "expected a list of users"));
    }
    return errors;
  }

  private static void validateServer(JsonNode s, String path, List<ValidationError> errors) {
    if (!s.isObject()) {
      errors.add(new ValidationError(path, Reason.INVALID_SERVER_SETTING, "expected an object"));
      return;
    }
    unknownFields(s, path, SERVER_FIELDS, errors);
    text(s, "listenAddress", path, errors);
    intRange(s, "port", path, 0, 65535, errors);
    JsonNode keys = s.get("hostKeys");
    if (keys != null && !keys.isNull()) {
      if (!keys.isArray()) {
        errors.add(new ValidationError(path + ".hostKeys", Reason.INVALID_SERVER_SETTING, "expected a list of file names"));
      } else {
        for (int i = 0; i < keys.size(); i++) {
          JsonNode k = keys.get(i);
          String kp = path + ".hostKeys[" + i + "]";
          if (!k.isTextual() || k.asText().isBlank()) {
            errors.add(new ValidationError(kp, Reason.INVALID_SERVER_SETTING, "expected a file name"));
          } else if (!isSafeRelative(k.asText())) {
            errors.add(new ValidationError(kp, Reason.INVALID_SERVER_SETTING, "must be relative to the config directory, without '..'"));
          }
        }
      }
    }
    text(s, "dataRoot", path, errors);
    text(s, "banner", path, errors);
    intRange(s, "idleTimeoutSeconds", path, 0, Integer.MAX_VALUE, errors);
    intRange(s, "maxSessions", path, 1, Integer.MAX_VALUE, errors);
    intRange(s, "maxSessionsPerUser", path, 1, Integer.MAX_VALUE, errors);
    enumValue(s, "algorithmProfile", path, errors, AlgorithmProfile::fromWire);
    enumValue(s, "setstatMode", path, errors, SetstatMode::fromWire);
    enumValue(s, "uploadMode", path, errors, UploadMode::fromWire);
    String umask = text(s, "umask", path, errors);
    if (umask != null && !UMASK.matcher(umask).matches()) {
      errors.add(new ValidationError(path + ".umask", Reason.INVALID_SERVER_SETTING, "expected an octal mask such as '0022'"));
    }
    bool(s, "fsyncOnClose", path, errors);
    intRange(s, "maxAuthTries", path, 1, 100, errors);
    intRange(s, "loginGraceTimeSeconds", path, 1, 3600, errors);
    intRange(s, "maxStartupsPerAddress", path, 1, 100_000, errors);
    intRange(s, "maxChannelsPerSession", path, 1, 1_000, errors);
    intRange(s, "maxOpenHandlesPerChannel", path, 1, 1_000_000, errors);
    intRange(s, "maxSessionsPerAddress", path, 1, Integer.MAX_VALUE, errors);
    // At least what a 32 KiB write (every client's default) and its header take; a client that
    // honours limits@openssh.com is told the limit.
    intRange(s, "maxSftpPacketBytes", path, 34 * 1024, 16 * 1024 * 1024, errors);
    // At least one largest message: a connection must be able to send one request.
    intRange(s, "maxPendingRequestBytes", path, 256 * 1024, Integer.MAX_VALUE, errors);
    intRange(s, "shutdownGraceSeconds", path, 0, 3600, errors);
    String startups = text(s, "maxStartups", path, errors);
    if (startups != null) {
      try {
        ServerSettings.parseStartups(startups);
      } catch (IllegalArgumentException e) {
        errors.add(new ValidationError(path + ".maxStartups", Reason.INVALID_SERVER_SETTING, e.getMessage()));
      }
    }
    JsonNode d = nested(s, "defender", path, DEFENDER_FIELDS, Reason.INVALID_SERVER_SETTING, errors);
    if (d != null) {
      String dp = path + ".defender";
      bool(d, "enabled", dp, errors);
      intRange(d, "maxFailures", dp, 1, 1_000_000, errors);
      intRange(d, "windowSeconds", dp, 1, 86_400 * 30, errors);
      intRange(d, "banSeconds", dp, 1, 86_400 * 365, errors);
      eachParses(textList(d, "allowCidrs", dp, errors), dp + ".allowCidrs", Reason.INVALID_SERVER_SETTING, Cidr::parse, errors);
    }
    JsonNode um = nested(s, "userMetrics", path, USER_METRICS_FIELDS, Reason.INVALID_SERVER_SETTING, errors);
    if (um != null) {
      String up = path + ".userMetrics";
      intRange(um, "top", up, 0, UserMetricsSettings.MAX_TOP, errors);
      List<String> named = textList(um, "users", up, errors);
      if (named != null && named.size() > UserMetricsSettings.MAX_TOP) {
        errors.add(new ValidationError(up + ".users", Reason.INVALID_SERVER_SETTING, "at most " + UserMetricsSettings.MAX_TOP + " users"));
      }
    }
    JsonNode pp = nested(s, "proxyProtocol", path, PROXY_FIELDS, Reason.INVALID_SERVER_SETTING, errors);
    if (pp != null) {
      String ppath = path + ".proxyProtocol";
      String mode = text(pp, "mode", ppath, errors);
      if (mode != null && !List.of(ProxyProtocolSettings.OFF, ProxyProtocolSettings.OPTIONAL, ProxyProtocolSettings.ENFORCED).contains(mode)) {
        errors.add(new ValidationError(ppath + ".mode", Reason.INVALID_SERVER_SETTING, "expected Off, Optional or Enforced, not '" + mode + "'"));
      }
      List<String> trusted = textList(pp, "trustedCidrs", ppath, errors);
      eachParses(trusted, ppath + ".trustedCidrs", Reason.INVALID_SERVER_SETTING, Cidr::parse, errors);
      // Believing headers from every address lets any client claim any address, past the
      // defender, allowedSourceCidrs and the per-address limits.
      for (int i = 0; trusted != null && i < trusted.size(); i++) {
        try {
          if (Cidr.parse(trusted.get(i)).prefixLength() == 0) {
            errors.add(new ValidationError(ppath + ".trustedCidrs[" + i + "]", Reason.INVALID_SERVER_SETTING, "'" + trusted.get(i)
                + "' trusts every address: any client could claim any address; list the load balancers' own addresses"));
          }
        } catch (IllegalArgumentException reported) {
          // reported above
        }
      }
      if (mode != null && !mode.equals(ProxyProtocolSettings.OFF) && (trusted == null || trusted.isEmpty())) {
        errors.add(new ValidationError(ppath + ".trustedCidrs", Reason.INVALID_SERVER_SETTING,
            "list the load balancers' addresses: only their PROXY headers are believed"));
      }
    }
  }

  /** Checks one user entry; {@code path} is its JSON path, such as {@code $.users[3]}. */
  public static List<ValidationError> validateUser(JsonNode u, String path) {
    List<ValidationError> errors = new ArrayList<>();
    if (u == null || !u.isObject()) {
      errors.add(new ValidationError(path, Reason.INVALID_FIELD, "expected a user object"));
      return errors;
    }
    unknownFields(u, path, USER_FIELDS, errors);
    String name = text(u, "name", path, errors);
    if (name == null) {
      errors.add(new ValidationError(path + ".name", Reason.INVALID_USERNAME, "missing login name"));
    } else if (!USER_NAME.matcher(name).matches()) {
      errors.add(
          new ValidationError(
              path + ".name", Reason.INVALID_USERNAME,
              "'" + name + "' is not a valid login name: lower-case letters, digits, '.', '_' and"
                  + " '-', starting with a letter or '_', at most 64 characters"));
    }
    String hash = text(u, "passwordHash", path, errors);
    if (hash != null) {
      String problem = PasswordHashes.problem(hash);
      if (problem != null) {
        errors.add(new ValidationError(path + ".passwordHash", Reason.INVALID_PASSWORD_HASH, problem));
      }
    }
    List<String> keys = textList(u, "authorizedKeys", path, errors);
    eachParses(keys, path + ".authorizedKeys", Reason.INVALID_PUBLIC_KEY, PublicKeyLine::parse, errors);
    if (hash == null && keys.isEmpty() && u.has("name")) {
      errors.add(new ValidationError(path, Reason.NO_CREDENTIALS, "has neither a passwordHash nor authorizedKeys, so nobody can log in"));
    }
    String home = text(u, "home", path, errors);
    if (home == null) {
      errors.add(new ValidationError(path + ".home", Reason.INVALID_HOME, "missing home directory"));
    } else if (!isSafeRelative(home)) {
      errors.add(
          new ValidationError(
              path + ".home", Reason.INVALID_HOME, "must be a relative path inside the data root, without '..'"));
    }
    bool(u, "disabled", path, errors);
    bool(u, "readOnly", path, errors);
    String expires = text(u, "expiresAt", path, errors);
    if (expires != null) {
      try {
        Instant.parse(expires);
      } catch (DateTimeParseException e) {
        errors.add(new ValidationError(path + ".expiresAt", Reason.INVALID_EXPIRY, "'" + expires + "' is not an RFC 3339 time such as 2030-01-31T00:00:00Z"));
      }
    }
    eachParses(textList(u, "allowedSourceCidrs", path, errors), path + ".allowedSourceCidrs", Reason.INVALID_SOURCE_CIDR, Cidr::parse, errors);
    permissions(u.get("permissions"), path + ".permissions", errors);
    JsonNode rules = u.get("pathRules");
    if (rules != null && !rules.isNull()) {
      if (!rules.isArray()) {
        errors.add(new ValidationError(path + ".pathRules", Reason.INVALID_PATH_RULE, "expected a list"));
      } else {
        for (int i = 0; i < rules.size(); i++) {
          JsonNode r = rules.get(i);
          String rp = path + ".pathRules[" + i + "]";
          if (!r.isObject()) {
            errors.add(new ValidationError(rp, Reason.INVALID_PATH_RULE, "expected an object with path and permissions"));
            continue;
          }
          unknownFields(r, rp, Set.of("path", "permissions"), errors);
          String p = text(r, "path", rp, errors);
          if (p == null || !p.startsWith("/") || !isSafeRelative(p.substring(1)) && !p.equals("/")) {
            errors.add(new ValidationError(rp + ".path", Reason.INVALID_PATH_RULE, "expected an absolute path inside the home such as '/outgoing', without '..'"));
          }
          if (r.get("permissions") == null || r.get("permissions").isNull()) {
            errors.add(new ValidationError(rp + ".permissions", Reason.INVALID_PATH_RULE, "missing; use [] to deny everything"));
          }
          permissions(r.get("permissions"), rp + ".permissions", errors);
        }
      }
    }
    JsonNode limits = nested(u, "limits", path, LIMIT_FIELDS, Reason.INVALID_LIMIT, errors);
    if (limits != null) {
      String lp = path + ".limits";
      longAtLeast(limits, "quotaBytes", lp, 0, errors);
      longAtLeast(limits, "quotaFiles", lp, 0, errors);
      longAtLeast(limits, "uploadBytesPerSecond", lp, UserLimits.MIN_BYTES_PER_SECOND, errors);
      longAtLeast(limits, "downloadBytesPerSecond", lp, UserLimits.MIN_BYTES_PER_SECOND, errors);
    }
    return errors;
  }

  /**
   * A nested object field: null when absent, or when not an object (an error then); its unknown
   * fields are reported.
   */
  private static JsonNode nested(JsonNode parent, String field, String path, Set<String> fields, Reason reason, List<ValidationError> errors) {
    JsonNode n = parent.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isObject()) {
      errors.add(new ValidationError(path + "." + field, reason, "expected an object"));
      return null;
    }
    unknownFields(n, path + "." + field, fields, errors);
    return n;
  }

  private static void longAtLeast(JsonNode o, String field, String path, long min, List<ValidationError> errors) {
    JsonNode n = o.get(field);
    if (n != null && !n.isNull() && (!n.canConvertToLong() || !n.isIntegralNumber() || n.asLong() < min)) {
      errors.add(new ValidationError(path + "." + field, Reason.INVALID_LIMIT, "expected a whole number of at least " + min));
    }
  }

  /** Whether a path is relative, non-empty and never climbs with {@code ..}. */
  public static boolean isSafeRelative(String p) {
    if (p == null || p.isEmpty() || p.startsWith("/") || p.contains("\\") || p.contains("\0")) {
      return false;
    }
    for (String part : p.split("/")) {
      if (part.equals("..")) {
        return false;
      }
    }
    return true;
  }

  private static void permissions(JsonNode n, String path, List<ValidationError> errors) {
    if (n == null || n.isNull()) {
      return;
    }
    if (!n.isArray()) {
      errors.add(new ValidationError(path, Reason.INVALID_PERMISSION, "expected a list of permissions"));
      return;
    }
    for (int i = 0; i < n.size(); i++) {
      try {
        if (!n.get(i).isTextual()) {
          throw new IllegalArgumentException("expected a permission name");
        }
        Permission.fromWire(n.get(i).asText());
      } catch (IllegalArgumentException e) {
        errors.add(new ValidationError(path + "[" + i + "]", Reason.INVALID_PERMISSION, e.getMessage()));
      }
    }
  }

  private interface Parser {
    Object parse(String s);
  }

  private static void enumValue(JsonNode o, String field, String path, List<ValidationError> errors, Parser parser) {
    String v = text(o, field, path, errors);
    if (v != null) {
      try {
        parser.parse(v);
      } catch (IllegalArgumentException e) {
        errors.add(new ValidationError(path + "." + field, Reason.INVALID_FIELD, e.getMessage()));
      }
    }
  }

  private static void unknownFields(JsonNode o, String path, Set<String> allowed, List<ValidationError> errors) {
    for (Iterator<String> it = o.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!allowed.contains(f)) {
        errors.add(new ValidationError(path + "." + f, Reason.INVALID_FIELD, "unknown field"));
      }
    }
  }

  private static String text(JsonNode o, String field, String path, List<ValidationError> errors) {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      return null;
    }
    if (!n.isTextual()) {
      errors.add(new ValidationError(path + "." + field, Reason.INVALID_FIELD, "expected a string"));
      return null;
    }
    return n.asText();
  }

  private static void bool(JsonNode o, String field, String path, List<ValidationError> errors) {
    JsonNode n = o.get(field);
    if (n != null && !n.isNull() && !n.isBoolean()) {
      errors.add(new ValidationError(path + "." + field, Reason.INVALID_FIELD, "expected true or false"));
    }
  }

  /** An error for each value of a list that {@code parse} refuses, with the reason given. */
  private static void eachParses(List<String> values, String path, Reason reason, java.util.function.Function<String, ?> parse, List<ValidationError> errors) {
    for (int i = 0; i < values.size(); i++) {
      try {
        parse.apply(values.get(i));
      } catch (IllegalArgumentException e) {
        errors.add(new ValidationError(path + "[" + i + "]", reason, e.getMessage()));
      }
    }
  }

  private static void intRange(JsonNode o, String field, String path, long min, long max, List<ValidationError> errors) {
    JsonNode n = o.get(field);
    if (n == null || n.isNull()) {
      return;
    }
    if (!n.isIntegralNumber() || n.asLong() < min || n.asLong() > max) {
      errors.add(new ValidationError(path + "." + field, Reason.INVALID_FIELD, "expected an integer from " + min + " to " + max));
    }
  }

  private static List<String> textList(JsonNode o, String field, String path, List<ValidationError> errors) {
    JsonNode n = o.get(field);
    List<String> out = new ArrayList<>();
    if (n == null || n.isNull()) {
      return out;
    }
    if (!n.isArray()) {
      errors.add(new ValidationError(path + "." + field, Reason.INVALID_FIELD, "expected a list of strings"));
      return out;
    }
    for (int i = 0; i < n.size(); i++) {
      if (!n.get(i).isTextual()) {
        errors.add(new ValidationError(path + "." + field + "[" + i + "]", Reason.INVALID_FIELD, "expected a string"));
      } else {
        out.add(n.get(i).asText());
      }
    }
    return out;
  }
}
