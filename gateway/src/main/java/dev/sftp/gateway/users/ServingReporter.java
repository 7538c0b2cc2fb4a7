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
  private volatile ServingReport pending;
  /** Touched on the reporting thread only. */
  private ServingReport sent;
  private int failures;

  public ServingReporter(Settings settings) {
    this.settings = settings;
  }

  /** Reports the digests of the user lists now served (returns at once). */
  public void served(Map<String, String> userLists) {
    pending = new ServingReport(userLists, Instant.now().toString());
    submit(0);
  }

  private void submit(long delayMillis) {
    try {
      thread.schedule(this::send, delayMillis, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException closed) {
      // Shutting down.
    }
  }

  private void send() {
    ServingReport r = pending;
    if (r == null || r == sent) {
      return;
    }
    try {
      patch(JsonNodeFactory.instance.textNode(r.toJson()));
      sent = r;
      if (failures > 0) {
        LOG.info("serving report written to ConfigMap " + settings.namespace() + "/" + settings.configMap() + " after " + failures + " failed attempts");
      }
      failures = 0;
    } catch (RuntimeException e) {
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
    if (pending == null) {
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
