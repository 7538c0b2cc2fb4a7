package dev.sftp.gateway.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.ToDoubleFunction;
import org.apache.sshd.sftp.common.SftpConstants;

/**
 * The gateway's metrics (Micrometer; Prometheus names in docs/metrics.md). What the audit trail
 * records is counted from its events ({@link #onAudit}: logins, refusals, bans, ended
 * transfers), so that the two never disagree; what happens per packet (bytes, SFTP requests) is
 * counted where it happens. Tags are bounded: methods, results, limit names, request types; never
 * a path or an address, and a user name only in the opt-in per-user metrics ({@link UserMetrics},
 * a bounded set of users).
 */
public final class GatewayMetrics implements Consumer<ObjectNode> {
  /** Metrics that go nowhere (tests and tools that do not look). */
  public static GatewayMetrics none() {
    return new GatewayMetrics(new SimpleMeterRegistry());
  }

  private final MeterRegistry registry;
  private final Counter bytesRead;
  private final Counter bytesWritten;
  private final Counter[] requestsOk = new Counter[256];
  private final Counter[] requestsFailed = new Counter[256];
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Map<String, Timer> timers = new ConcurrentHashMap<>();

  public GatewayMetrics(MeterRegistry registry) {
    this.registry = registry;
    this.bytesRead = Counter.builder("sftp.bytes").tag("direction", "read").description("File bytes sent to clients").baseUnit("bytes").register(registry);
    this.bytesWritten = Counter.builder("sftp.bytes").tag("direction", "written").description("File bytes received from clients").baseUnit("bytes").register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Per-user metrics, or null when off (the default). */
  private volatile UserMetrics perUser;

  /**
   * Turns per-user metrics on when {@code top} or {@code users} asks for any ({@link
   * UserMetrics}); returns whether they are on. Their series are chosen by {@link #selectUsers}.
   */
  public boolean perUser(int top, java.util.List<String> users) {
    UserMetrics u = new UserMetrics(registry, top, users);
    perUser = u.enabled() ? u : null;
    return perUser != null;
  }

  /** Chooses again which users have series (every 30 s when per-user metrics are on). */
  public void selectUsers() {
    UserMetrics u = perUser;
    if (u != null) {
      u.select();
    }
  }

  /** The users with per-user series now (for tests). */
  public java.util.Set<String> usersShown() {
    UserMetrics u = perUser;
    return u == null ? java.util.Set.of() : u.shown();
  }

  public void bytesRead(String user, long n) {
    bytesRead.increment(n);
    UserMetrics u = perUser;
    if (u != null && user != null) {
      u.read(user, n);
    }
  }

  public void bytesWritten(String user, long n) {
    bytesWritten.increment(n);
    UserMetrics u = perUser;
    if (u != null && user != null) {
      u.written(user, n);
    }
  }

  /** One SFTP request of this type by this user, answered with an error status or not. */
  public void request(String user, int type, boolean failed) {
    UserMetrics u = perUser;
    if (u != null && user != null) {
      u.request(user);
    }
    int t = type & 0xff;
    Counter[] row = failed ? requestsFailed : requestsOk;
    Counter c = row[t];
    if (c == null) {
      c = Counter.builder("sftp.requests").tag("type", typeName(t)).tag("result", failed ? "error" : "ok")
          .description("SFTP requests by type and result").register(registry);
      row[t] = c;
    }
    c.increment();
  }

  static String typeName(int type) {
    return switch (type) {
      case SftpConstants.SSH_FXP_INIT -> "init";
      case SftpConstants.SSH_FXP_OPEN -> "open";
      case SftpConstants.SSH_FXP_CLOSE -> "close";
      case SftpConstants.SSH_FXP_READ -> "read";
      case SftpConstants.SSH_FXP_WRITE -> "write";
      case SftpConstants.SSH_FXP_LSTAT -> "lstat";
      case SftpConstants.SSH_FXP_FSTAT -> "fstat";
      case SftpConstants.SSH_FXP_SETSTAT -> "setstat";
      case SftpConstants.SSH_FXP_FSETSTAT -> "fsetstat";
      case SftpConstants.SSH_FXP_OPENDIR -> "opendir";
      case SftpConstants.SSH_FXP_READDIR -> "readdir";
      case SftpConstants.SSH_FXP_REMOVE -> "remove";
      case SftpConstants.SSH_FXP_MKDIR -> "mkdir";
      case SftpConstants.SSH_FXP_RMDIR -> "rmdir";
      case SftpConstants.SSH_FXP_REALPATH -> "realpath";
      case SftpConstants.SSH_FXP_STAT -> "stat";
      case SftpConstants.SSH_FXP_RENAME -> "rename";
      case SftpConstants.SSH_FXP_READLINK -> "readlink";
      case SftpConstants.SSH_FXP_SYMLINK -> "symlink";
      case SftpConstants.SSH_FXP_LINK -> "link";
      case SftpConstants.SSH_FXP_BLOCK -> "block";
      case SftpConstants.SSH_FXP_UNBLOCK -> "unblock";
      case SftpConstants.SSH_FXP_EXTENDED -> "extended";
      default -> "other";
    };
  }

  /** Counts an audit event (registered as an observer of {@code AuditLog}). */
  @Override
  public void accept(ObjectNode e) {
    String event = text(e, "event");
    switch (event) {
      case "login.success" -> {
        count("sftp.logins", "Logins by method and result", "method", text(e, "method"), "result", "success");
        UserMetrics u = perUser;
        if (u != null && e.hasNonNull("user")) {
          u.sessionStarted(e.get("user").asText());
        }
      }
      case "logout" -> {
        UserMetrics u = perUser;
        if (u != null && e.hasNonNull("user")) {
          u.sessionEnded(e.get("user").asText());
        }
      }
      case "login.failure" -> count("sftp.logins", "Logins by method and result", "method", text(e, "method"), "result", "failure");
      case "connection.refused", "session.refused", "connection.closed", "channel.closed", "session.terminated", "request.refused" ->
          count("sftp.refusals", "Connections, logins and channels refused or ended by a limit, a ban or malformed input", "event", event,
              "limit", e.hasNonNull("limit") ? e.get("limit").asText() : "other");
      case "defender.ban" -> count("sftp.bans", "Source addresses banned by the defender");
      case "file.read", "file.write" -> {
        String result = text(e, "result");
        count("sftp.transfers", "Files closed after reading or writing", "direction", event.equals("file.read") ? "read" : "write", "result", result);
        JsonNode ms = e.get("durationMs");
        if (ms != null && ms.isNumber()) {
          timer(event.equals("file.read") ? "read" : "write", result).record(Duration.ofMillis(ms.asLong()));
        }
      }
      default -> { }
    }
  }

  private static String text(ObjectNode e, String field) {
    JsonNode n = e.get(field);
    return n == null || n.isNull() ? "unknown" : n.asText();
  }

  private void count(String name, String description, String... tags) {
    String key = name + String.join("\u0000", tags);
    counters.computeIfAbsent(key, k -> Counter.builder(name).tags(tags).description(description).register(registry)).increment();
  }

  private Timer timer(String direction, String result) {
    return timers.computeIfAbsent(direction + result, k -> Timer.builder("sftp.transfer.duration").tag("direction", direction).tag("result", result)
        .description("Time from a file's open to its close").publishPercentileHistogram(false).register(registry));
  }

  /** A value read when scraped. */
  public <T> void gauge(String name, String description, T source, ToDoubleFunction<T> value, String... tags) {
    Gauge.builder(name, source, value).tags(tags).description(description).register(registry);
  }

  /** A count kept elsewhere, read when scraped. */
  public <T> void functionCounter(String name, String description, T source, ToDoubleFunction<T> value, String... tags) {
    FunctionCounter.builder(name, source, value).tags(tags).description(description).register(registry);
  }

  /** A constant 1 with descriptive tags (host keys, the contract generation). */
  public void info(String name, String description, String... tags) {
    Gauge.builder(name, () -> 1).tags(tags).description(description).register(registry);
  }

}
