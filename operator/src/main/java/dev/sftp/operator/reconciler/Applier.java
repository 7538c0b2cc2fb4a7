package dev.sftp.operator.reconciler;

import com.fasterxml.jackson.databind.JsonNode;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.util.Iterator;
import java.util.Map;

/**
 * Writes a desired object only when the cluster's copy differs from it, so that reconciling an
 * unchanged gateway makes no write. Production writes use server-side apply with the operator as
 * field manager; {@code update} mode (replace) exists for the Fabric8 mock server, which cannot
 * apply.
 */
public class Applier {
  public static final String FIELD_MANAGER = "sftp-operator";

  private final KubernetesClient client;
  private final boolean serverSideApply;
  private final KubernetesSerialization json;

  public Applier(KubernetesClient client, boolean serverSideApply) {
    this.client = client;
    this.serverSideApply = serverSideApply;
    this.json = client.getKubernetesSerialization();
  }

  /** Makes the cluster hold {@code desired}; returns true when it wrote. */
  public <T extends HasMetadata> boolean apply(T desired, T actual) {
    if (actual != null && contains(actual, desired)) {
      return false;
    }
    if (serverSideApply) {
      client.resource(desired).fieldManager(FIELD_MANAGER).forceConflicts().serverSideApply();
    } else if (actual == null) {
      client.resource(desired).create();
    } else {
      desired.getMetadata().setResourceVersion(actual.getMetadata().getResourceVersion());
      if (desired instanceof Service ds && actual instanceof Service as && as.getSpec() != null) {
        ds.getSpec().setClusterIP(as.getSpec().getClusterIP());
        ds.getSpec().setClusterIPs(as.getSpec().getClusterIPs());
      }
      client.resource(desired).update();
    }
    return true;
  }

  /** Whether every field the operator sets in {@code desired} has the same value in {@code actual}. */
  public <T extends HasMetadata> boolean contains(T actual, T desired) {
    JsonNode a = json.convertValue(actual, JsonNode.class);
    JsonNode d = json.convertValue(desired, JsonNode.class);
    for (String f : new String[] {"labels", "annotations", "ownerReferences"}) {
      if (!subset(a.path("metadata").path(f), d.path("metadata").path(f))) {
        return false;
      }
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = d.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (e.getKey().equals("metadata") || e.getKey().equals("status")) {
        continue;
      }
      if (!subset(a.path(e.getKey()), e.getValue())) {
        return false;
      }
    }
    return true;
  }

  static boolean subset(JsonNode actual, JsonNode desired) {
    if (desired == null || desired.isMissingNode() || desired.isNull()) {
      return true;
    }
    if (desired.isObject()) {
      if (!actual.isObject()) {
        return desired.isEmpty();
      }
      for (Iterator<Map.Entry<String, JsonNode>> it = desired.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (!subset(actual.path(e.getKey()), e.getValue())) {
          return false;
        }
      }
      return true;
    }
    if (desired.isArray()) {
      if (!actual.isArray() || actual.size() != desired.size()) {
        return desired.isEmpty() && (actual.isMissingNode() || actual.isNull() || actual.isEmpty());
      }
      for (int i = 0; i < desired.size(); i++) {
        if (!subset(actual.get(i), desired.get(i))) {
          return false;
        }
      }
      return true;
    }
    if (desired.isNumber() && actual.isNumber()) {
      return desired.decimalValue().compareTo(actual.decimalValue()) == 0;
    }
    return desired.asText().equals(actual.asText()) && !actual.isMissingNode();
  }
}
