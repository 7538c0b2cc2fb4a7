package dev.sftp.gateway.users;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.ServingReport;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Logger;

/**
 * Tells the operator which user lists this pod serves: after every load of its users, the pod
 * writes a {@link ServingReport} under its own name into its gateway's serving ConfigMap (a JSON
 * merge patch of one data key; the gateway's Role allows get and patch of that one ConfigMap and
 * nothing else). The operator marks a user Ready only when every ready pod serves the list the
 * user was rendered into, so Ready means the first login works.
 *
 * <p>The report also carries the usage of the homes of users with a quota ({@link
 * ServingReport#usage}): every 30 s, the users whose usage changed since it was last written,
 * and every 10 minutes all of them again, at most {@link ServingReport#MAX_USAGE} per report.
 * The operator shows it in each SftpUser's status.
 *
 * <p>Reports are sent on one thread; the newest replaces any not yet sent, and a failed send (the
 * API unreachable, the ConfigMap not made yet) is retried with a growing delay up to 30 s. On
 * close the pod removes its key (the operator also prunes the keys of pods that are gone).
 */
public final class ServingReporter implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(ServingReporter.class.getName());
  private static final Duration MAX_DELAY = Duration.ofSeconds(30);

  /**
   * Where to report.
   *
   * @param client the gateway's client
   * @param namespace the gateway's namespace
   * @param configMap the serving ConfigMap's name
   * @param pod this pod's name (the data key)
   */
  public record Settings(KubernetesClient client, String namespace, String configMap, String pod) {}

  private final Settings settings;
  private final ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "serving-report");
    t.setDaemon(true);
    return t;
  });
  /** The user lists served now; null until the first load. */
  private volatile Map<String, String> lists;
  /** Whether something not yet written: new lists, or usage entries in {@link #unsent}. */
  private volatile boolean dirty;
  /** Usage that changed and is not written yet (the newest per user); guarded by itself. */
  private final java.util.TreeMap<String, ServingReport.HomeUsage> unsent = new java.util.TreeMap<>();
  /** Usage as last written, to send only what changed; touched on the reporting thread only. */
  private final java.util.HashMap<String, ServingReport.HomeUsage> reported = new java.util.HashMap<>();
  private final java.util.function.Supplier<Map<String, ServingReport.HomeUsage>> usage;
  private int failures;
  private long collections;
  /** Every this many collections (10 minutes by default) all usage is reported again. */
  static final int REFRESH_EVERY = 20;

  /** How often the usage of homes with a quota is looked at for changes to report. */
  static final Duration USAGE_EVERY = Duration.ofSeconds(Long.getLong("gateway.usage-report-seconds", 30));

  /**
   * @param usage the usage of the homes of users with a quota, by user name (null: none is
   *     reported); looked at every {@link #USAGE_EVERY}
   */
  public ServingReporter(Settings settings, java.util.function.Supplier<Map<String, ServingReport.HomeUsage>> usage) {
    this.settings = settings;
    this.usage = usage;
    if (usage != null) {
      long ms = USAGE_EVERY.toMillis();
      thread.scheduleWithFixedDelay(this::collectUsage, ms, ms, TimeUnit.MILLISECONDS);
    }
  }

  /** Reports the digests of the user lists now served (returns at once). */
  public void served(Map<String, String> userLists) {
    lists = Map.copyOf(userLists);
    dirty = true;
    submit(0);
  }

  private void submit(long delayMillis) {
    try {
      thread.schedule(this::send, delayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // Shutting down.
    }
  }

  /** On the reporting thread: the usage entries that changed since they were last reported. */
  private void collectUsage() {
    // Now and then everything again: a report replaces the pod's previous one in the ConfigMap,
    // so an operator that was away when it was there has not seen it.
    if (++collections % REFRESH_EVERY == 0) {
      reported.clear();
    }
    Map<String, ServingReport.HomeUsage> now;
    try {
      now = usage.get();
    } catch (RuntimeException e) {
      LOG.warning("usage not collected: " + e);
      return;
    }
    boolean changed = false;
    synchronized (unsent) {
      for (Map.Entry<String, ServingReport.HomeUsage> e : now.entrySet()) {
        if (!e.getValue().equals(reported.get(e.getKey())) && !e.getValue().equals(unsent.get(e.getKey()))) {
          unsent.put(e.getKey(), e.getValue());
          changed = true;
        }
      }
    }
    reported.keySet().retainAll(now.keySet());
    if (changed) {
      dirty = true;
      send();
    }
  }

  private void send() {
    Map<String, String> l = lists;
    if (l == null || !dirty) {
      return;
    }
    dirty = false;
    Map<String, ServingReport.HomeUsage> batch = new java.util.TreeMap<>();
    synchronized (unsent) {
      for (Map.Entry<String, ServingReport.HomeUsage> e : unsent.entrySet()) {
        if (batch.size() == ServingReport.MAX_USAGE) {
          dirty = true; // the rest goes in the next report
          break;
        }
        batch.put(e.getKey(), e.getValue());
      }
    }
    ServingReport r = new ServingReport(l, Instant.now().toString(), batch);
    try {
      patch(JsonNodeFactory.instance.textNode(r.toJson()));
      synchronized (unsent) {
        for (Map.Entry<String, ServingReport.HomeUsage> e : batch.entrySet()) {
          unsent.remove(e.getKey(), e.getValue());
        }
      }
      reported.putAll(batch);
      if (dirty) {
        submit(0);
      }
      if (failures > 0) {
        LOG.info("serving report written to ConfigMap " + settings.namespace() + "/" + settings.configMap() + " after " + failures + " failed attempts");
      }
      failures = 0;
    } catch (RuntimeException e) {
      dirty = true;
      failures++;
      if (failures == 1 || failures % 20 == 0) {
        LOG.warning("cannot write the serving report to ConfigMap " + settings.namespace() + "/" + settings.configMap()
            + " (attempt " + failures + ", retrying; users stay served, the operator only waits to mark them Ready): " + e.getMessage());
      }
      long delay = Math.min(MAX_DELAY.toMillis(), 250L << Math.min(failures, 10));
      submit(delay);
    }
  }

  private void patch(com.fasterxml.jackson.databind.node.TextNode value) {
    ObjectNode body = JsonNodeFactory.instance.objectNode();
    body.putObject("data").set(settings.pod(), value);
    settings.client().configMaps().inNamespace(settings.namespace()).withName(settings.configMap())
        .patch(PatchContext.of(PatchType.JSON_MERGE), body.toString());
  }

  /** Stops reporting and removes this pod's key, best effort (one attempt, 2 s at most). */
  @Override
  public void close() {
    thread.shutdownNow();
    if (lists == null) {
      return;
    }
    Thread remove = new Thread(() -> {
      try {
        // A JSON patch: a merge patch's null is kept as a value by some API servers (the mock).
        com.fasterxml.jackson.databind.node.ArrayNode ops = JsonNodeFactory.instance.arrayNode();
        ops.addObject().put("op", "remove").put("path", "/data/" + settings.pod().replace("~", "~0").replace("/", "~1"));
        settings.client().configMaps().inNamespace(settings.namespace()).withName(settings.configMap())
            .patch(PatchContext.of(PatchType.JSON), ops.toString());
        LOG.info("serving report removed from ConfigMap " + settings.namespace() + "/" + settings.configMap());
      } catch (RuntimeException e) {
        LOG.warning("serving report not removed from ConfigMap " + settings.namespace() + "/" + settings.configMap() + " (the operator prunes it): " + e.getMessage());
      }
    }, "serving-report-remove");
    remove.setDaemon(true);
    remove.start();
    try {
      remove.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
