package dev.sftp.operator.realapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.reconciler.SftpGatewayReconciler;
import dev.sftp.operator.reconciler.SftpUserReconciler;
import dev.sftp.operator.reconciler.UserDirectory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.javaoperatorsdk.operator.Operator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * What the mock server cannot show, against a real kube-apiserver (the one {@code
 * ../shared/k8s-apiserver} builds, started by .ci/run, found through SFTP_IT_KUBECONFIG): the
 * committed CRDs' schema defaults, pruning and validation, server-side apply by the operator,
 * no writes when nothing changed, and garbage collection with retention on delete.
 */
class RealApiServerIT {
  static KubernetesClient client;
  static Operator operator;
  /** Namespaces of this run, so that a server used before does not get in the way. */
  static final String RUN = Long.toString(System.currentTimeMillis() % 1_000_000, 36);

  @BeforeAll
  static void connect() throws Exception {
    String kubeconfig = System.getenv("SFTP_IT_KUBECONFIG");
    Assumptions.assumeTrue(kubeconfig != null && !kubeconfig.isBlank() && Files.isRegularFile(Path.of(kubeconfig)),
        "SFTP_IT_KUBECONFIG names no kubeconfig: .ci/run starts a real API server for this test");
    client = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)))).build();
    for (String f : List.of("sftpgateways.sftp.dev-v1.yml", "sftpusers.sftp.dev-v1.yml")) {
      CustomResourceDefinition crd = client.getKubernetesSerialization().unmarshal(Files.readString(Path.of("../crds", f)), CustomResourceDefinition.class);
      // The 1.20 test server drops CEL rules (x-kubernetes-validations, 1.25+) on create; its
      // server-side apply refuses them, so the CRDs are created, not applied.
      client.resource(crd).createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update);
      client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
          .waitUntilCondition(c -> c.getStatus() != null && c.getStatus().getConditions() != null
              && c.getStatus().getConditions().stream().anyMatch(x -> x.getType().equals("Established") && x.getStatus().equals("True")), 60, java.util.concurrent.TimeUnit.SECONDS);
    }
    // The operator runs with only the rights the Helm chart grants it, when the chart is rendered.
    KubernetesClient operatorClient = client;
    String chart = System.getenv("SFTP_IT_CHART");
    if (chart != null && Files.exists(Path.of(chart))) {
      client.resource(new NamespaceBuilder().withNewMetadata().withName("sftp-system").endMetadata().build()).serverSideApply();
      for (HasMetadata o : client.load(Files.newInputStream(Path.of(chart))).items()) {
        if (!o.getKind().equals("Deployment")) {
          client.resource(o).fieldManager("sftp-it").forceConflicts().serverSideApply();
        }
      }
      Config asOperator = Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)));
      asOperator.setImpersonateUsername("system:serviceaccount:sftp-system:sftp");
      asOperator.setImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:sftp-system", "system:authenticated");
      operatorClient = new KubernetesClientBuilder().withConfig(asOperator).build();
    }
    UserDirectory directory = new UserDirectory(operatorClient);
    // 1.20 has no policy/v1: its PodDisruptionBudget informer cannot start there, the others can.
    final KubernetesClient oc = operatorClient;
    operator = new Operator(o -> o.withKubernetesClient(oc).withStopOnInformerErrorDuringStartup(false).withCloseClientOnStop(false)
        .withCacheSyncTimeout(Duration.ofSeconds(15)));
    operator.register(new SftpGatewayReconciler(oc, directory, true, "ghcr.io/sftp-dev/sftp-gateway:test"));
    operator.register(new SftpUserReconciler(oc, directory));
    operator.start();
  }

  @AfterAll
  static void disconnect() {
    if (operator != null) {
      operator.stop();
    }
    if (client != null) {
      client.close();
    }
  }

  static void namespace(String ns) {
    client.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).serverSideApply();
  }

  static GenericKubernetesResource raw(String ns, String name, Map<String, Object> spec) {
    GenericKubernetesResource r = new GenericKubernetesResource();
    r.setApiVersion("sftp.dev/v1alpha1");
    r.setKind("SftpGateway");
    r.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    r.setAdditionalProperties(new LinkedHashMap<>(Map.of("spec", spec)));
    return r;
  }

  @Test
  void theSchemaDefaultsPrunesAndValidates() {
    String ns = "schema-" + RUN;
    namespace(ns);
    GenericKubernetesResource created = client.resource(raw(ns, "defaults", Map.of("service", Map.of(), "colour", "blue"))).create();
    @SuppressWarnings("unchecked")
    Map<String, Object> spec = (Map<String, Object>) created.getAdditionalProperties().get("spec");
    assertThat(spec).containsEntry("replicas", 1).doesNotContainKey("colour");
    assertThat(spec.get("service")).isEqualTo(Map.of("type", "ClusterIP", "port", 22));
    assertThatThrownBy(() -> client.resource(raw(ns, "bad-replicas", Map.of("replicas", -1))).create())
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.replicas");
    assertThatThrownBy(() -> client.resource(raw(ns, "bad-type", Map.of("service", Map.of("type", "Ingress")))).create())
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.service.type");
    assertThatThrownBy(() -> client.resource(raw(ns, "bad-size", Map.of("storage", Map.of("size", "ten gigs")))).create())
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.storage.size");
    assertThatThrownBy(() -> client.resource(raw(ns, "bad-port", Map.of("service", Map.of("port", 70000)))).create())
        .isInstanceOf(KubernetesClientException.class).hasMessageContaining("spec.service.port");
  }

  @Test
  void theOperatorAppliesServerSideWritesNothingWhenUnchangedAndDeletionKeepsData() throws Exception {
    String ns = "ssa-" + RUN;
    namespace(ns);
    client.resource(raw(ns, "files", Map.of())).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> client.apps().deployments().inNamespace(ns).withName("files").get() != null
        && client.services().inNamespace(ns).withName("files").get() != null);
    Deployment d = client.apps().deployments().inNamespace(ns).withName("files").get();
    assertThat(d.getMetadata().getManagedFields()).anySatisfy(m -> {
      assertThat(m.getManager()).isEqualTo("sftp-operator");
      assertThat(m.getOperation()).isEqualTo("Apply");
    });
    // No provisioner and no kubelet here: bind the claim and report the Deployment available as
    // their controllers would. Until then the gateway says why it is not Ready.
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(client.resources(SftpGateway.class).inNamespace(ns).withName("files").get()
        .getStatus().conditions).anySatisfy(c -> assertThat(c.getReason()).isEqualTo("StorageClaimPending")));
    var pvc = client.persistentVolumeClaims().inNamespace(ns).withName("files-data").get();
    pvc.setStatus(new io.fabric8.kubernetes.api.model.PersistentVolumeClaimStatusBuilder().withPhase("Bound").build());
    client.persistentVolumeClaims().inNamespace(ns).resource(pvc).updateStatus();
    d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(d.getMetadata().getGeneration()).withReplicas(1)
        .withUpdatedReplicas(1).withAvailableReplicas(1).withReadyReplicas(1).build());
    client.apps().deployments().inNamespace(ns).resource(d).updateStatus();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      SftpGateway gw = client.resources(SftpGateway.class).inNamespace(ns).withName("files").get();
      assertThat(gw.getStatus().conditions).anySatisfy(c -> {
        assertThat(c.getType()).isEqualTo("Ready");
        assertThat(c.getStatus()).isEqualTo("True");
      });
    });

    // A user attaches; the printer columns (computed by the API server) show it all.
    client.resource(dev.sftp.operator.reconciler.UserFixtures.keyUser(ns, "alice", "files",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS alice")).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> Integer.valueOf(1).equals(client.resources(SftpGateway.class).inNamespace(ns).withName("files").get().getStatus().users));
    String table = table("/apis/sftp.dev/v1alpha1/namespaces/" + ns + "/sftpgateways");
    System.out.println("kubectl get sftpgateways (server-side table):\n" + table);
    assertThat(table).contains("Ready=True").contains("Endpoint=files." + ns + ".svc:22").contains("Users=1");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(table("/apis/sftp.dev/v1alpha1/namespaces/" + ns + "/sftpusers")).contains("Gateway=files").contains("Ready=True").contains("Reason=Attached"));
    System.out.println("kubectl get sftpusers (server-side table):\n" + table("/apis/sftp.dev/v1alpha1/namespaces/" + ns + "/sftpusers"));

    Map<String, String> versions = versions(ns);
    // Touch the Service: the operator reconciles and must find nothing to write.
    client.services().inNamespace(ns).withName("files").edit(s -> {
      s.getMetadata().setAnnotations(Map.of("touched-by", "test"));
      return s;
    });
    await().pollDelay(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(versions(ns)).isEqualTo(versions));

    client.resources(SftpGateway.class).inNamespace(ns).withName("files").delete();
    // The garbage collector removes what the gateway owned; the claim and host keys stay.
    await().atMost(Duration.ofSeconds(90)).until(() -> client.apps().deployments().inNamespace(ns).withName("files").get() == null
        && client.secrets().inNamespace(ns).withName("files-config").get() == null
        && client.services().inNamespace(ns).withName("files").get() == null);
    assertThat(client.persistentVolumeClaims().inNamespace(ns).withName("files-data").get()).isNotNull();
    assertThat(client.secrets().inNamespace(ns).withName("files-host-keys").get()).isNotNull();
  }

  /** The API server's own table rendering (what kubectl get prints), as "Column=value" cells. */
  static String table(String path) throws Exception {
    var http = client.getHttpClient();
    var req = http.newHttpRequestBuilder().uri(client.getConfiguration().getMasterUrl().replaceAll("/$", "") + path)
        .header("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").build();
    var resp = http.sendAsync(req, String.class).get(30, java.util.concurrent.TimeUnit.SECONDS);
    var node = client.getKubernetesSerialization().unmarshal(resp.body(), com.fasterxml.jackson.databind.JsonNode.class);
    StringBuilder sb = new StringBuilder();
    var cols = node.path("columnDefinitions");
    for (var row : node.path("rows")) {
      for (int i = 0; i < cols.size(); i++) {
        sb.append(cols.get(i).path("name").asText()).append('=').append(row.path("cells").get(i).asText()).append("  ");
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  static Map<String, String> versions(String ns) {
    Map<String, String> out = new LinkedHashMap<>();
    List<HasMetadata> objs = List.of(
        client.apps().deployments().inNamespace(ns).withName("files").get(),
        client.secrets().inNamespace(ns).withName("files-config").get(),
        client.secrets().inNamespace(ns).withName("files-host-keys").get(),
        client.serviceAccounts().inNamespace(ns).withName("files").get(),
        client.persistentVolumeClaims().inNamespace(ns).withName("files-data").get(),
        client.resources(SftpGateway.class).inNamespace(ns).withName("files").get());
    for (HasMetadata o : objs) {
      out.put(o.getKind() + "/" + o.getMetadata().getName(), o.getMetadata().getResourceVersion());
    }
    return out;
  }
}
