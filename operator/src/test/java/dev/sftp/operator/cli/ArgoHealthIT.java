package dev.sftp.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sftp.operator.status.Conditions;
import dev.sftp.operator.status.Reasons;
import dev.sftp.operator.status.UserStatuses;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Argo CD health check of examples/gitops (Lua, run by Debian's lua5.4 as Argo CD runs it:
 * a chunk that reads the global {@code obj} and returns a table) against statuses made by the
 * operator's own condition code.
 */
class ArgoHealthIT {
  static final Path SCRIPT = Path.of("../examples/gitops/argocd/health.lua");

  /** A JSON value as a Lua table constructor. */
  static String lua(JsonNode n) {
    if (n.isObject()) {
      StringBuilder sb = new StringBuilder("{");
      for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        sb.append("[").append(quote(e.getKey())).append("]=").append(lua(e.getValue())).append(",");
      }
      return sb.append("}").toString();
    }
    if (n.isArray()) {
      StringBuilder sb = new StringBuilder("{");
      n.forEach(x -> sb.append(lua(x)).append(","));
      return sb.append("}").toString();
    }
    if (n.isNumber() || n.isBoolean()) {
      return n.asText();
    }
    return n.isNull() ? "nil" : quote(n.asText());
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n") + "\"";
  }

  /** status|message of the script for an object with these conditions. */
  static String health(long generation, Long observed, List<Condition> conditions) throws Exception {
    Map<String, Object> status = new java.util.HashMap<>();
    if (observed != null) {
      status.put("observedGeneration", observed);
    }
    if (conditions != null) {
      status.put("conditions", conditions);
    }
    Map<String, Object> obj = Map.of("metadata", Map.of("name", "x", "generation", generation), "status", status);
    JsonNode json = dev.sftp.contract.ContractJson.mapper().valueToTree(obj);
    String program = "obj = " + lua(json) + "\nlocal hs = assert(load(io.read('a')))()\nprint(hs.status .. '|' .. hs.message)\n";
    Process p = new ProcessBuilder("lua5.4", "-e", program).redirectErrorStream(true).start();
    p.getOutputStream().write(Files.readAllBytes(SCRIPT));
    p.getOutputStream().close();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
    String out = new String(p.getInputStream().readAllBytes()).trim();
    assertThat(p.exitValue()).as(out).isZero();
    return out;
  }

  static List<Condition> user(Condition ready) {
    List<Condition> c = new ArrayList<>(List.of(ready, Conditions.of(Conditions.ACCEPTED, true, Reasons.ATTACHED, "Rendered", 3L)));
    c.addAll(UserStatuses.progress(ready, 3L));
    return c;
  }

  @Test
  void theScriptReadsTheConditionsTheOperatorWrites() throws Exception {
    Assumptions.assumeTrue(new ProcessBuilder("sh", "-c", "command -v lua5.4").start().waitFor() == 0, "lua5.4 is installed by .ci/run");
    // Users.
    assertThat(health(3, 3L, user(Conditions.of(Conditions.READY, true, Reasons.SERVED, "all 2 ready pods serve it", 3L))))
        .isEqualTo("Healthy|all 2 ready pods serve it");
    assertThat(health(3, 3L, user(Conditions.of(Conditions.READY, false, Reasons.LOAD_PENDING, "1 of 2 ready pods serve it so far", 3L))))
        .isEqualTo("Progressing|LoadPending: 1 of 2 ready pods serve it so far");
    assertThat(health(3, 3L, user(Conditions.of(Conditions.READY, false, "InvalidPublicKey", "public key 1 of 1 is refused", 3L))))
        .isEqualTo("Degraded|InvalidPublicKey: public key 1 of 1 is refused");
    assertThat(health(3, 3L, user(Conditions.of(Conditions.READY, false, Reasons.DISABLED, "spec.disabled is true", 3L))))
        .isEqualTo("Suspended|Disabled: spec.disabled is true");
    // A change the operator has not looked at yet, and no status at all.
    assertThat(health(4, 3L, user(Conditions.of(Conditions.READY, true, Reasons.SERVED, "ok", 3L)))).startsWith("Progressing|");
    assertThat(health(1, null, null)).isEqualTo("Progressing|Waiting for the sftp operator");
    // Gateways: Ready with Reconciling or Stalled, as SftpGatewayReconciler writes them.
    assertThat(health(2, 2L, List.of(Conditions.of(Conditions.READY, false, Reasons.DEPLOYMENT_UNAVAILABLE, "0 of 1 replicas available", 2L),
        Conditions.of(Conditions.RECONCILING, true, Reasons.DEPLOYMENT_UNAVAILABLE, "0 of 1 replicas available", 2L))))
        .isEqualTo("Progressing|DeploymentUnavailable: 0 of 1 replicas available");
    assertThat(health(2, 2L, List.of(Conditions.of(Conditions.READY, false, Reasons.HOST_KEY_SECRET_NOT_FOUND, "Secret keys not found", 2L),
        Conditions.of(Conditions.STALLED, true, Reasons.HOST_KEY_SECRET_NOT_FOUND, "Secret keys not found", 2L))))
        .isEqualTo("Degraded|HostKeySecretNotFound: Secret keys not found");
  }

  @Test
  void theArgoCdConfigMapCarriesTheSameScript() throws Exception {
    ConfigMap cm = new io.fabric8.kubernetes.client.utils.KubernetesSerialization()
        .unmarshal(Files.readString(Path.of("../examples/gitops/argocd/argocd-cm.yaml")), ConfigMap.class);
    assertThat(cm.getData().get("resource.customizations.health.sftp.dev_*")).isEqualTo(Files.readString(SCRIPT));
  }
}
