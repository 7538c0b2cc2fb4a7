package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentStatusBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The reconciler against the Fabric8 mock API server in CRUD mode. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class SftpGatewayReconcilerIT {
  @KubernetesTestServer KubernetesServer server;
  @Inject KubernetesClient client;
  @Inject SftpGatewayReconciler reconciler;

  static SftpGateway gateway(String ns, String name) {
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    gw.setSpec(new SftpGatewaySpec());
    return gw;
  }

  Condition ready(String ns, String name) {
    SftpGateway gw = client.resources(SftpGateway.class).inNamespace(ns).withName(name).get();
    if (gw == null || gw.getStatus() == null) {
      return null;
    }
    return gw.getStatus().conditions.stream().filter(c -> c.getType().equals("Ready")).findFirst().orElse(null);
  }

  void makeAvailable(String ns, String name) {
    Deployment d = client.apps().deployments().inNamespace(ns).withName(name).get();
    d.setStatus(new DeploymentStatusBuilder().withObservedGeneration(d.getMetadata().getGeneration() == null ? 1L : d.getMetadata().getGeneration())
        .withReplicas(d.getSpec().getReplicas()).withUpdatedReplicas(d.getSpec().getReplicas())
        .withAvailableReplicas(d.getSpec().getReplicas()).withReadyReplicas(d.getSpec().getReplicas()).build());
    if (d.getMetadata().getGeneration() == null) {
      d.getMetadata().setGeneration(1L);
    }
    client.apps().deployments().inNamespace(ns).resource(d).updateStatus();
  }

  @org.eclipse.microprofile.config.inject.ConfigProperty(name = "quarkus.management.test-port", defaultValue = "9001")
  int managementPort;

  /** The operator's own metrics (JOSDK's reconciliations, through Micrometer) on its management port. */
  @Test
  void theOperatorServesItsMetrics() throws Exception {
    String ns = "metrics";
    client.resources(SftpGateway.class).inNamespace(ns).resource(gateway(ns, "watched")).create();
    // One user rendered, one left out (a DSA key is refused).
    client.resources(dev.sftp.operator.model.SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "good", "watched",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS t")).create();
    client.resources(dev.sftp.operator.model.SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "bad", "watched", "ssh-dss AAAA t")).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(ns).withName("watched").get() != null);
    var http = java.net.http.HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      String body = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://localhost:" + managementPort + "/q/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      assertThat(body).containsPattern("(?m)^reconciliations_success_total\\{controller_name=\"sftpgateway\"} [1-9]")
          .containsPattern("(?m)^reconciliations_queue\\{controller_name=\"sftpuser\"} ")
          .containsPattern("(?m)^sftp_operator_users_rendered [1-9]").containsPattern("(?m)^sftp_operator_users_rejected [1-9]")
          .containsPattern("(?m)^sftp_operator_gateways [1-9]")
          .contains("jvm_memory_used_bytes");
    });
  }

  @Test
  void aSmallestGatewayGetsEverythingAndBecomesReady() {
    String ns = "create";
    client.resources(SftpGateway.class).inNamespace(ns).resource(gateway(ns, "files")).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      assertThat(client.apps().deployments().inNamespace(ns).withName("files").get()).isNotNull();
      assertThat(client.services().inNamespace(ns).withName("files").get()).isNotNull();
      assertThat(client.persistentVolumeClaims().inNamespace(ns).withName("files-data").get()).isNotNull();
      assertThat(client.secrets().inNamespace(ns).withName("files-host-keys").get()).isNotNull();
      assertThat(client.secrets().inNamespace(ns).withName("files-config").get()).isNotNull();
      assertThat(client.serviceAccounts().inNamespace(ns).withName("files").get()).isNotNull();
    });
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ready(ns, "files")).isNotNull());
    assertThat(ready(ns, "files").getStatus()).isEqualTo("False");
    makeAvailable(ns, "files");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Condition r = ready(ns, "files");
      assertThat(r.getStatus()).isEqualTo("True");
      assertThat(r.getReason()).isEqualTo("Available");
    });
    SftpGateway gw = client.resources(SftpGateway.class).inNamespace(ns).withName("files").get();
    assertThat(gw.getStatus().endpoint).isEqualTo("files.create.svc:22");
    assertThat(gw.getStatus().hostKeys).hasSize(3);
    assertThat(gw.getStatus().knownHosts).contains("files.create.svc ssh-ed25519 AAAA");
    assertThat(gw.getStatus().observedGeneration).isEqualTo(gw.getMetadata().getGeneration());
    // Retain: deleting the gateway will leave the claim and the host keys alone.
    PersistentVolumeClaim pvc = client.persistentVolumeClaims().inNamespace(ns).withName("files-data").get();
    assertThat(pvc.getMetadata().getOwnerReferences()).isEmpty();
    assertThat(client.secrets().inNamespace(ns).withName("files-host-keys").get().getMetadata().getOwnerReferences()).isEmpty();
    assertThat(client.apps().deployments().inNamespace(ns).withName("files").get().getMetadata().getOwnerReferences()).hasSize(1);
  }

  /**
   * The serving ConfigMap is made for the pods and its data left to them; the report of a pod
   * that is gone is removed once it is old, a recent one is kept (its pod may not be in the
   * cache yet).
   */
  @Test
  void reportsOfPodsThatAreGoneArePruned() {
    String ns = "prune";
    String fresh = new dev.sftp.contract.ServingReport(Map.of("users-00.json", "aa"), java.time.Instant.now().toString()).toJson();
    String stale = new dev.sftp.contract.ServingReport(Map.of("users-00.json", "aa"), "2026-01-01T00:00:00Z").toJson();
    SftpGateway gw = gateway(ns, "files");
    io.fabric8.kubernetes.api.model.ConfigMap cm = dev.sftp.operator.render.GatewayRender.servingConfigMap(gw);
    cm.getMetadata().setOwnerReferences(null);
    cm.setData(Map.of("files-gone", stale, "files-new", fresh, "files-junk", "{"));
    client.resource(cm).create();
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(client.configMaps().inNamespace(ns).withName("files-serving").get().getData())
        .containsOnlyKeys("files-new"));
    SftpGateway other = gateway(ns, "other");
    client.resources(SftpGateway.class).inNamespace(ns).resource(other).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(client.configMaps().inNamespace(ns).withName("other-serving").get()).isNotNull());
  }

  /** A server setting the CRD schema lets through but the contract refuses stops before rendering. */
  @Test
  void serverSettingsTheContractRefusesAreReportedAndNotRendered() {
    String ns = "bad-server";
    SftpGateway gw = gateway(ns, "files");
    gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
    gw.getSpec().server.maxAuthTries = 3;
    gw.getSpec().server.defender = new SftpGatewaySpec.DefenderSpec();
    gw.getSpec().server.defender.allowCidrs = List.of("10.0.0.0/8", "not-a-cidr");
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Condition r = ready(ns, "files");
      assertThat(r).isNotNull();
      assertThat(r.getReason()).isEqualTo("ServerSettingsInvalid");
      assertThat(r.getMessage()).startsWith("spec.server.defender.allowCidrs[1]: ");
    });
    assertThat(client.secrets().inNamespace(ns).withName("files-config").get()).isNull();
    client.resources(SftpGateway.class).inNamespace(ns).withName("files").edit(g -> {
      g.getSpec().server.defender.allowCidrs = List.of("10.0.0.0/8");
      g.getSpec().server.maxSessionsPerAddress = 40;
      g.getSpec().server.maxSftpPacketBytes = 65536;
      g.getSpec().server.maxPendingRequestBytes = 1048576;
      g.getSpec().server.proxyProtocol = new SftpGatewaySpec.ProxyProtocolSpec();
      g.getSpec().server.proxyProtocol.mode = "Enforced";
      g.getSpec().server.proxyProtocol.trustedCidrs = List.of("10.0.0.0/8");
      return g;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> client.secrets().inNamespace(ns).withName("files-config").get() != null);
    String rendered = new String(java.util.Base64.getDecoder().decode(client.secrets().inNamespace(ns).withName("files-config").get().getData().get("gateway.json")));
    assertThat(rendered).contains("\"maxAuthTries\" : 3").contains("\"allowCidrs\" : [ \"10.0.0.0/8\" ]")
        .contains("\"maxSessionsPerAddress\" : 40").contains("\"maxSftpPacketBytes\" : 65536").contains("\"maxPendingRequestBytes\" : 1048576")
        .contains("\"mode\" : \"Enforced\"");
  }

  @Test
  void anUnchangedGatewayCausesNoWrites() throws Exception {
    String ns = "noop";
    client.resources(SftpGateway.class).inNamespace(ns).resource(gateway(ns, "quiet")).create();
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("pw").endMetadata()
        .withStringData(Map.of("password", "a plain password")).build()).create();
    client.resources(dev.sftp.operator.model.SftpUser.class).inNamespace(ns).resource(UserFixtures.passwordUser(ns, "alice", "quiet", "pw")).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(ns).withName("quiet").get() != null);
    makeAvailable(ns, "quiet");
    await().atMost(Duration.ofSeconds(30)).until(() -> ready(ns, "quiet") != null && "True".equals(ready(ns, "quiet").getStatus())
        && Integer.valueOf(1).equals(client.resources(SftpGateway.class).inNamespace(ns).withName("quiet").get().getStatus().users));
    // Let the operator settle, then drain what it sent so far.
    await().pollDelay(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> true);
    drain();
    long before = reconciler.passes();
    // Touch an owned object without changing what the operator manages: the informer event
    // triggers a reconciliation, which must find nothing to write.
    var svc = client.services().inNamespace(ns).withName("quiet").get();
    svc.getMetadata().setAnnotations(Map.of("touched-by", "someone-else"));
    client.services().inNamespace(ns).resource(svc).update();
    List<RecordedRequest> seen = new ArrayList<>();
    await().atMost(Duration.ofSeconds(20)).until(() -> reconciler.passes() > before);
    await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> true);
    seen.addAll(drain());
    List<String> writes = seen.stream()
        .filter(r -> !r.getMethod().equals("GET"))
        .filter(r -> !(r.getPath().contains("/services/quiet") && r.getMethod().equals("PUT"))) // the test's own write
        .map(r -> r.getMethod() + " " + r.getPath())
        .toList();
    assertThat(writes).as("writes by the operator after a no-op change").isEmpty();
    // Referenced Secrets come from the informer caches: a steady-state pass reads nothing either.
    assertThat(seen.stream().filter(r -> r.getMethod().equals("GET") && !r.getPath().contains("watch=true"))
        .filter(r -> !r.getPath().endsWith("/services/quiet")) // the test's own read before its write
        .map(RecordedRequest::getPath).toList())
        .as("reads by the operator after a no-op change").isEmpty();
  }

  @Test
  void aMissingOrInvalidHostKeySecretIsReportedAndRecovers() {
    String ns = "keys";
    SftpGateway gw = gateway(ns, "byo");
    gw.getSpec().hostKeys = new SftpGatewaySpec.HostKeysSpec();
    gw.getSpec().hostKeys.secretName = "my-keys";
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Condition r = ready(ns, "byo");
      assertThat(r).isNotNull();
      assertThat(r.getReason()).isEqualTo("HostKeySecretNotFound");
      assertThat(r.getMessage()).contains("my-keys").contains("does not exist");
    });
    SftpGateway stalled = client.resources(SftpGateway.class).inNamespace(ns).withName("byo").get();
    assertThat(stalled.getStatus().conditions).anySatisfy(c -> {
      assertThat(c.getType()).isEqualTo("Stalled");
      assertThat(c.getStatus()).isEqualTo("True");
    });
    assertThat(client.apps().deployments().inNamespace(ns).withName("byo").get()).isNull();
    assertThat(client.resources(io.fabric8.kubernetes.api.model.events.v1.Event.class).inNamespace(ns).list().getItems())
        .anySatisfy(e -> {
          assertThat(e.getReason()).isEqualTo("HostKeySecretNotFound");
          assertThat(e.getType()).isEqualTo("Warning");
          assertThat(e.getRegarding().getName()).isEqualTo("byo");
        });

    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("my-keys").endMetadata()
        .withData(Map.of("ssh_host_ed25519_key", java.util.Base64.getEncoder().encodeToString("not a key".getBytes()))).build()).create();
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Condition r = ready(ns, "byo");
      assertThat(r.getReason()).isEqualTo("HostKeySecretInvalid");
      assertThat(r.getMessage()).contains("ssh_host_ed25519_key");
    });

    Map<String, String> good = dev.sftp.operator.render.HostKeyMaterial.generate();
    Secret fixed = client.secrets().inNamespace(ns).withName("my-keys").get();
    Map<String, String> data = new java.util.TreeMap<>();
    good.forEach((k, v) -> data.put(k, java.util.Base64.getEncoder().encodeToString(v.getBytes())));
    fixed.setData(data);
    client.secrets().inNamespace(ns).resource(fixed).update();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(ns).withName("byo").get() != null);
    makeAvailable(ns, "byo");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(ready(ns, "byo").getStatus()).isEqualTo("True"));
  }

  @Test
  void serverSettingsRollThePodsAndDeletionKeepsTheVolume() {
    String ns = "update";
    client.resources(SftpGateway.class).inNamespace(ns).resource(gateway(ns, "roll")).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(ns).withName("roll").get() != null);
    String before = client.apps().deployments().inNamespace(ns).withName("roll").get().getSpec().getTemplate().getMetadata().getAnnotations().get("sftp.dev/config-hash");
    // Change the spec once the operator has settled (its status write must not race the edit).
    await().atMost(Duration.ofSeconds(30)).until(() -> ready(ns, "roll") != null && "DeploymentUnavailable".equals(ready(ns, "roll").getReason()));
    // The operator writes status concurrently: retry the edit on a 409 conflict.
    await().atMost(Duration.ofSeconds(30)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class).until(() -> {
      client.resources(SftpGateway.class).inNamespace(ns).withName("roll").edit(gw -> {
        gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
        gw.getSpec().server.banner = "Authorised use only";
        // The API server bumps the generation on a spec change; the mock server stores what it is sent.
        gw.getMetadata().setGeneration(gw.getMetadata().getGeneration() == null ? 2L : gw.getMetadata().getGeneration() + 1);
        return gw;
      });
      return true;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> !before.equals(client.apps().deployments().inNamespace(ns).withName("roll").get()
        .getSpec().getTemplate().getMetadata().getAnnotations().get("sftp.dev/config-hash")));
    client.resources(SftpGateway.class).inNamespace(ns).withName("roll").delete();
    await().atMost(Duration.ofSeconds(10)).until(() -> client.resources(SftpGateway.class).inNamespace(ns).withName("roll").get() == null);
    assertThat(client.persistentVolumeClaims().inNamespace(ns).withName("roll-data").get()).isNotNull();
    assertThat(client.secrets().inNamespace(ns).withName("roll-host-keys").get()).isNotNull();
  }

  @Test
  void replicasOnASharedVolumeGetADisruptionBudgetThatGoesAwayAtOneReplica() {
    String ns = "pdb";
    SftpGateway gw = gateway(ns, "pair");
    gw.getSpec().replicas = 2;
    gw.getSpec().storage = new SftpGatewaySpec.StorageSpec();
    gw.getSpec().storage.accessModes = List.of("ReadWriteMany");
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.policy().v1().podDisruptionBudget().inNamespace(ns).withName("pair").get() != null);
    assertThat(client.policy().v1().podDisruptionBudget().inNamespace(ns).withName("pair").get().getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
    await().atMost(Duration.ofSeconds(30)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class).until(() -> {
      client.resources(SftpGateway.class).inNamespace(ns).withName("pair").edit(g -> {
        g.getSpec().replicas = 1;
        g.getMetadata().setGeneration(g.getMetadata().getGeneration() == null ? 2L : g.getMetadata().getGeneration() + 1);
        return g;
      });
      return true;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> client.policy().v1().podDisruptionBudget().inNamespace(ns).withName("pair").get() == null);
  }

  List<RecordedRequest> drain() throws InterruptedException {
    List<RecordedRequest> out = new ArrayList<>();
    RecordedRequest r;
    while ((r = server.getKubernetesMockServer().takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      out.add(r);
    }
    return out;
  }
}
