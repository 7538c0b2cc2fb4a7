package dev.sftp.gateway.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * Metrics per user, opt-in and bounded: series exist only for the users named in {@code
 * userMetrics.users} and the {@code userMetrics.top} users that moved the most bytes since the
 * gateway started; {@link #select} (every 30 s) adds the series of users that entered that set
 * and removes those of users that left it. So at most {@code (top + users) * 4} series, whatever
 * the number of users (10,000 users with {@code top: 20}: 80 series). The counts themselves are
 * kept for every user that was active (a few dozen bytes each), so a user entering the top N
 * shows its whole total, and a counter stays monotonic while it is shown.
 */
public final class UserMetrics {
  private final MeterRegistry registry;
  private final int top;
  private final Set<String> listed;
  private final Map<String, Stats> stats = new ConcurrentHashMap<>();
  /** The users with series now, and their meters; touched by {@link #select} only. */
  private final Map<String, List<Meter>> shown = new HashMap<>();

  /** One user's counts. */
  static final class Stats {
    final LongAdder read = new LongAdder();
    final LongAdder written = new LongAdder();
    final LongAdder requests = new LongAdder();
    final AtomicInteger sessions = new AtomicInteger();

    long bytes() {
      return read.sum() + written.sum();
    }
  }

  UserMetrics(MeterRegistry registry, int top, List<String> users) {
    this.registry = registry;
    this.top = Math.max(0, top);
    this.listed = Set.copyOf(users);
  }

  boolean enabled() {
    return top > 0 || !listed.isEmpty();
  }

  private Stats of(String user) {
    return stats.computeIfAbsent(user, k -> new Stats());
  }

  void read(String user, long n) {
    of(user).read.add(n);
  }

  void written(String user, long n) {
    of(user).written.add(n);
  }

  void request(String user) {
    of(user).requests.increment();
  }

  void sessionStarted(String user) {
    of(user).sessions.incrementAndGet();
  }

  void sessionEnded(String user) {
    Stats s = stats.get(user);
    if (s != null) {
      s.sessions.updateAndGet(v -> Math.max(0, v - 1));
    }
  }

  /** The users that have series now (for tests). */
  synchronized Set<String> shown() {
    return Set.copyOf(shown.keySet());
  }

  /** Shows the series of the listed users and the top N by bytes; removes the others. */
  synchronized void select() {
    Set<String> want = new HashSet<>();
    for (String u : listed) {
      if (stats.containsKey(u)) {
        want.add(u);
      }
    }
    if (top > 0) {
      List<Map.Entry<String, Stats>> all = new ArrayList<>(stats.entrySet());
      all.removeIf(e -> e.getValue().bytes() == 0 && e.getValue().requests.sum() == 0);
      all.sort(Comparator.comparingLong((Map.Entry<String, Stats> e) -> e.getValue().bytes()).reversed().thenComparing(Map.Entry::getKey));
      for (int i = 0; i < Math.min(top, all.size()); i++) {
        want.add(all.get(i).getKey());
      }
    }
    for (var it = shown.entrySet().iterator(); it.hasNext();) {
      var e = it.next();
      if (!want.contains(e.getKey())) {
        e.getValue().forEach(registry::remove);
        it.remove();
      }
    }
    for (String u : want) {
      if (!shown.containsKey(u)) {
        Stats s = stats.get(u);
        shown.put(u, List.of(
            FunctionCounter.builder("sftp.user.bytes", s, x -> x.read.sum()).tag("user", u).tag("direction", "read")
                .description("File bytes sent to this user (per-user metrics)").baseUnit("bytes").register(registry),
            FunctionCounter.builder("sftp.user.bytes", s, x -> x.written.sum()).tag("user", u).tag("direction", "written")
                .description("File bytes received from this user (per-user metrics)").baseUnit("bytes").register(registry),
            FunctionCounter.builder("sftp.user.requests", s, x -> x.requests.sum()).tag("user", u)
                .description("SFTP requests of this user (per-user metrics)").register(registry),
            Gauge.builder("sftp.user.sessions", s, x -> x.sessions.get()).tag("user", u)
                .description("Authenticated connections of this user now (per-user metrics)").register(registry)));
      }
    }
  }
}
