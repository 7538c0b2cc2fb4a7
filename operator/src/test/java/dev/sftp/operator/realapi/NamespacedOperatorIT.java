package dev.sftp.operator.realapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.reconciler.UserFixtures;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The chart's second RBAC mode (watchNamespaces): the operator's own jar, started as the chart's
 * Deployment starts it (its QUARKUS_OPERATOR_SDK_NAMESPACES), authenticated as the chart's
 * ServiceAccount with a token, holding only the Roles the chart renders into the listed
 * namespaces and the ClusterRole that reads Namespaces. Needs SFTP_IT_CHART_NAMESPACED, the chart
 * rendered by .ci/run with ci/namespaced-values.yaml and the release name sftp-ns.
 */
class NamespacedOperatorIT {
  static final String RUN = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS tenant";

  @Test
  void theOperatorWithRolesInListedNamespacesServesThemAndLeavesTheRestAlone() throws Exception {
    String rendered = System.getenv("SFTP_IT_CHART_NAMESPACED");
    Assumptions.assumeTrue(rendered != null && Files.isRegularFile(Path.of(rendered)),
        "SFTP_IT_CHART_NAMESPACED names no rendered chart: .ci/run renders it with ci/namespaced-values.yaml");
    Path jar = Path.of("target/quarkus-app/quarkus-run.jar");
    assertThat(jar).as("the operator's jar, built in the package phase").exists();
    try (KubernetesClient admin = RealApi.admin()) {
      RealApi.createCrds(admin);
      RealApi.namespace(admin, "sftp-system");
      Deployment d = RealApi.applyChart(admin, Path.of(rendered));
      List<EnvVar> env = d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
      String watched = env.stream().filter(e -> e.getName().equals("QUARKUS_OPERATOR_SDK_NAMESPACES")).map(EnvVar::getValue).findFirst().orElseThrow();
      List<String> namespaces = List.of(watched.split(","));
      assertThat(namespaces).hasSize(2);
      String gatewayNs = namespaces.get(0);
      String tenantNs = namespaces.get(1);
      String outside = "unwatched-" + RUN;
      RealApi.namespace(admin, outside);

      // A gateway in a namespace outside the list, there before the operator starts.
      admin.resource(gateway(outside, "gw-" + RUN, null)).create();

      // A gateway in the first listed namespace admitting users of the second.
      String gw = "gw-" + RUN;
      admin.resource(gateway(gatewayNs, gw, List.of(tenantNs))).create();
      SftpUser user = UserFixtures.keyUser(tenantNs, "alice-" + RUN, gw, KEY);
      user.getSpec().gateway.namespace = gatewayNs;
      admin.resource(user).create();
      // A user in a listed namespace that names the gateway outside the list.
      SftpUser astray = UserFixtures.keyUser(tenantNs, "bob-" + RUN, "gw-" + RUN, KEY);
      astray.getSpec().gateway.namespace = outside;
      admin.resource(astray).create();
      // And one in the gateway's own namespace: with objects in both namespaces before the
      // start, each namespace's informer lists objects of its own (JOSDK starts one per
      // namespace), so an informer cache shared between them would lose one side's.
      SftpUser local = UserFixtures.keyUser(gatewayNs, "carol-" + RUN, gw, KEY);
      admin.resource(local).create();

      Path tmp = Files.createTempDirectory("sftp-namespaced");
      String account = d.getSpec().getTemplate().getSpec().getServiceAccountName();
      Path kubeconfig = RealApi.serviceAccountKubeconfig(admin, d.getMetadata().getNamespace(), account, tmp.resolve("kubeconfig"));
      try (KubernetesClient asOperator = new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(kubeconfig))).build()) {
        // The rights themselves: the tenants' Secrets in the listed namespaces, none outside.
        assertThat(asOperator.secrets().inNamespace(tenantNs).list()).isNotNull();
        assertThatThrownBy(() -> asOperator.secrets().inNamespace(outside).list())
            .isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
        assertThatThrownBy(() -> asOperator.secrets().inAnyNamespace().list())
            .isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
      }

      ProcessBuilder pb = new ProcessBuilder(ProcessHandle.current().info().command().orElse("java"), "-jar", jar.toString())
          .redirectErrorStream(true).redirectOutput(tmp.resolve("operator.log").toFile());
      for (EnvVar e : env) {
        // The chart's JVM options are for the image's JDK 25; this test runs the build's JDK.
        if (e.getValue() != null && !e.getName().equals("JDK_JAVA_OPTIONS")) {
          pb.environment().put(e.getName(), e.getValue());
        }
      }
      pb.environment().remove("JAVA_TOOL_OPTIONS");
      pb.environment().put("KUBECONFIG", kubeconfig.toString());
      pb.environment().put("QUARKUS_HTTP_PORT", "0");
      pb.environment().put("QUARKUS_HTTP_HOST", "127.0.0.1");
      pb.environment().put("QUARKUS_MANAGEMENT_PORT", "0");
      pb.environment().put("QUARKUS_MANAGEMENT_HOST", "127.0.0.1");
      Process operator = pb.start();
      try {
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
          assertThat(operator.isAlive()).as("operator alive; its log: %s", tmp.resolve("operator.log")).isTrue();
          SftpUser u = admin.resources(SftpUser.class).inNamespace(tenantNs).withName(user.getMetadata().getName()).get();
          assertThat(u.getStatus()).isNotNull();
          assertThat(u.getStatus().conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Accepted");
            assertThat(c.getStatus()).isEqualTo("True");
          });
          assertThat(admin.apps().deployments().inNamespace(gatewayNs).withName(gw).get()).isNotNull();
          assertThat(admin.rbac().roles().inNamespace(gatewayNs).withName(gw).get()).isNotNull();
          SftpGateway g = admin.resources(SftpGateway.class).inNamespace(gatewayNs).withName(gw).get();
          assertThat(g.getStatus()).isNotNull();
          assertThat(g.getStatus().users).isEqualTo(2);
          SftpUser l = admin.resources(SftpUser.class).inNamespace(gatewayNs).withName(local.getMetadata().getName()).get();
          assertThat(l.getStatus()).isNotNull();
          assertThat(l.getStatus().conditions).anySatisfy(x -> {
            assertThat(x.getType()).isEqualTo("Accepted");
            assertThat(x.getStatus()).isEqualTo("True");
          });
          SftpUser b = admin.resources(SftpUser.class).inNamespace(tenantNs).withName(astray.getMetadata().getName()).get();
          assertThat(b.getStatus()).isNotNull();
          assertThat(b.getStatus().conditions).anySatisfy(c -> {
            assertThat(c.getType()).isEqualTo("Accepted");
            assertThat(c.getStatus()).isEqualTo("False");
            assertThat(c.getReason()).isEqualTo("GatewayNotFound");
          });
        });
        // By then the operator has listed and served everything it watches: the gateway outside
        // the list, made first, has neither a status nor children.
        SftpGateway ignored = admin.resources(SftpGateway.class).inNamespace(outside).withName("gw-" + RUN).get();
        assertThat(ignored.getStatus()).isNull();
        assertThat(admin.apps().deployments().inNamespace(outside).list().getItems()).isEmpty();
        assertThat(admin.secrets().inNamespace(outside).list().getItems()).noneMatch(s -> s.getMetadata().getName().startsWith("gw-"));
        assertThat(Files.readString(tmp.resolve("operator.log"))).doesNotContain("forbidden");
        // Both controllers, and so their informers, were configured with the listed namespaces.
        assertThat(Files.readAllLines(tmp.resolve("operator.log"))).filteredOn(l -> l.contains("Registered reconciler"))
            .hasSize(2).allSatisfy(l -> assertThat(l).contains("for namespace(s): [").contains(gatewayNs).contains(tenantNs));
      } finally {
        operator.destroy();
        if (!operator.waitFor(20, TimeUnit.SECONDS)) {
          operator.destroyForcibly();
        }
      }
    }
  }

  static SftpGateway gateway(String ns, String name, List<String> allowedNamespaces) {
    SftpGateway g = new SftpGateway();
    g.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    g.setSpec(new SftpGatewaySpec());
    if (allowedNamespaces != null) {
      g.getSpec().users = new SftpGatewaySpec.UserPolicySpec();
      g.getSpec().users.allowedNamespaces = allowedNamespaces;
    }
    return g;
  }
}
