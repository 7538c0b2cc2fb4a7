package dev.sftp.gateway.users;

import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.logging.Logger;

/**
 * Follows the gateway's user Secrets through the Kubernetes API, so that a user added, changed or
 * removed takes effect within a second instead of whenever the kubelet refreshes the mounted
 * volume (its sync period, typically up to a minute).
 *
 * <p>Each Secret is watched by name (a field selector on {@code metadata.name}), so the gateway's
 * Role can be limited to exactly these Secrets with {@code resourceNames}: the gateway never sees
 * any other Secret of its namespace. Until every watch has listed once, {@link #snapshot()} is
 * null and the gateway keeps reading the mounted files; when the API becomes unreachable later,
 * the last known state stays in use.
 */
public final class SecretWatch implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(SecretWatch.class.getName());

  /**
   * What to follow.
   *
   * @param client a client, or null to build one from the environment
   * @param namespace the gateway's namespace
   * @param secrets the names of the Secrets holding {@code users-*.json} lists
   */
  public record Settings(KubernetesClient client, String namespace, List<String> secrets) {}

  private final KubernetesClient client;
  private final boolean ownsClient;
  private final List<SharedIndexInformer<Secret>> informers = new ArrayList<>();

  /**
   * Starts watching (without waiting for the first list).
   *
   * @param client a client, or null to build one from the environment (in-cluster service account
   *     token, or {@code KUBECONFIG})
   * @param namespace the gateway's namespace
   * @param names the Secrets that hold {@code users-*.json} lists
   * @param onChange called after any of them changed (on an informer thread)
   */
  public SecretWatch(KubernetesClient client, String namespace, List<String> names, Runnable onChange) {
    this.ownsClient = client == null;
    this.client = client != null ? client : new KubernetesClientBuilder().build();
    ResourceEventHandler<Secret> handler = new ResourceEventHandler<>() {
      @Override
      public void onAdd(Secret s) {
        onChange.run();
      }

      @Override
      public void onUpdate(Secret before, Secret after) {
        if (before == null || !java.util.Objects.equals(before.getData(), after.getData())) {
          onChange.run();
        }
      }

      @Override
      public void onDelete(Secret s, boolean unknownFinalState) {
        onChange.run();
      }
    };
    List<CompletableFuture<Void>> starts = new ArrayList<>();
    for (String name : names) {
      SharedIndexInformer<Secret> inf = this.client.secrets().inNamespace(namespace).withName(name).runnableInformer(0);
      inf.addEventHandler(handler);
      inf.exceptionHandler((started, t) -> {
        LOG.warning("watching Secret " + namespace + "/" + name + ": " + t + " (retrying; the last known users stay in use)");
        return true;
      });
      starts.add(inf.start().toCompletableFuture());
      informers.add(inf);
    }
    // The snapshot exists only once every watch has listed, and a Secret that does not exist
    // lists without an event: tell the gateway when the last first list is in, or the users of
    // the Secrets that listed earlier would wait for the next change (found as a flaky test).
    CompletableFuture.allOf(starts.toArray(new CompletableFuture<?>[0])).thenRun(onChange);
    LOG.info("following " + names.size() + " user Secrets of namespace " + namespace + " through the Kubernetes API at " + this.client.getMasterUrl());
  }

  /** Whether every watch has listed at least once. */
  public boolean synced() {
    return informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  /**
   * The user lists (file name → content) of every watched Secret, or null until every watch has
   * listed once. A Secret that does not exist contributes nothing.
   */
  public Map<String, byte[]> snapshot() {
    if (!synced()) {
      return null;
    }
    Map<String, byte[]> out = new TreeMap<>();
    for (SharedIndexInformer<Secret> inf : informers) {
      for (Secret s : inf.getStore().list()) {
        // The API server always returns data (stringData is write-only).
        if (s.getData() != null) {
          s.getData().forEach((k, v) -> out.put(k, Base64.getMimeDecoder().decode(v)));
        }
      }
    }
    return out;
  }

  @Override
  public void close() {
    informers.forEach(SharedIndexInformer::stop);
    if (ownsClient) {
      client.close();
    }
  }
}
