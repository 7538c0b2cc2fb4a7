package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ConfigMapBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** When the operator writes: only when the cluster's copy lacks or differs in a field it sets. */
class ApplierTest {
  static final KubernetesClient CLIENT = new KubernetesClientBuilder().build(); // never connects here
  final Applier applier = new Applier(CLIENT, false);

  @AfterAll
  static void close() {
    CLIENT.close();
  }

  static ConfigMap cm(Map<String, String> labels, Map<String, String> data) {
    return new ConfigMapBuilder().withNewMetadata().withName("c").withNamespace("n").withLabels(labels).endMetadata().withData(data).build();
  }

  @Test
  void whatTheServerAddsDoesNotCountAsADifference() {
    ConfigMap desired = cm(Map.of("a", "1"), Map.of("k", "v"));
    ConfigMap actual = cm(Map.of("a", "1", "added-by-someone", "x"), Map.of("k", "v"));
    actual.getMetadata().setResourceVersion("42");
    actual.getMetadata().setUid("u");
    assertThat(applier.contains(actual, desired)).isTrue();
  }

  @Test
  void aChangedOrMissingValueIsADifference() {
    ConfigMap desired = cm(Map.of("a", "1"), Map.of("k", "v"));
    assertThat(applier.contains(cm(Map.of("a", "2"), Map.of("k", "v")), desired)).isFalse();
    assertThat(applier.contains(cm(Map.of("a", "1"), Map.of("k", "w")), desired)).isFalse();
    assertThat(applier.contains(cm(Map.of(), Map.of("k", "v")), desired)).isFalse();
  }

  @Test
  void listsMustMatchInLengthAndOrderButNumbersCompareByValue() {
    Deployment desired = new DeploymentBuilder().withNewMetadata().withName("d").endMetadata()
        .withNewSpec().withReplicas(2).withNewTemplate().withNewSpec()
        .addNewContainer().withName("a").withNewResources().withLimits(Map.of("memory", new Quantity("512Mi"))).endResources().endContainer()
        .endSpec().endTemplate().endSpec().build();
    Deployment same = new DeploymentBuilder(desired).build();
    same.getSpec().setRevisionHistoryLimit(10); // defaulted by the server
    assertThat(applier.contains(same, desired)).isTrue();
    Deployment twoContainers = new DeploymentBuilder(desired).editSpec().editTemplate().editSpec().addNewContainer().withName("b").endContainer()
        .endSpec().endTemplate().endSpec().build();
    assertThat(applier.contains(twoContainers, desired)).isFalse();
    Deployment scaled = new DeploymentBuilder(desired).editSpec().withReplicas(3).endSpec().build();
    assertThat(applier.contains(scaled, desired)).isFalse();
    assertThat(Applier.subset(CLIENT.getKubernetesSerialization().convertValue(Map.of("n", 1.0), com.fasterxml.jackson.databind.JsonNode.class),
        CLIENT.getKubernetesSerialization().convertValue(Map.of("n", 1), com.fasterxml.jackson.databind.JsonNode.class))).isTrue();
  }

  @Test
  void anEmptyDesiredListMatchesAnAbsentOne() {
    ConfigMap desired = cm(Map.of(), Map.of());
    ConfigMap actual = cm(null, null);
    assertThat(applier.contains(actual, desired)).isTrue();
  }
}
