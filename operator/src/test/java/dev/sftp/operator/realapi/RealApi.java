package dev.sftp.operator.realapi;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.NamespaceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.authentication.TokenRequestBuilder;
import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.dsl.NonDeletingOperation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;

/** The real API server that .ci/run starts (SFTP_IT_KUBECONFIG), shared by the tests against it. */
final class RealApi {
  private RealApi() {}

  static Path adminKubeconfig() {
    String kubeconfig = System.getenv("SFTP_IT_KUBECONFIG");
    Assumptions.assumeTrue(kubeconfig != null && !kubeconfig.isBlank() && Files.isRegularFile(Path.of(kubeconfig)),
        "SFTP_IT_KUBECONFIG names no kubeconfig: .ci/run starts a real API server for this test");
    return Path.of(kubeconfig);
  }

  static KubernetesClient admin() throws IOException {
    return new KubernetesClientBuilder().withConfig(Config.fromKubeconfig(Files.readString(adminKubeconfig()))).build();
  }

  /**
   * The committed CRDs. The 1.20 test server drops CEL rules (x-kubernetes-validations, 1.25+) on
   * create; its server-side apply refuses them, so they are created, not applied.
   */
  static void createCrds(KubernetesClient client) throws IOException {
    for (String f : List.of("sftpgateways.sftp.dev-v1.yml", "sftpusers.sftp.dev-v1.yml")) {
      CustomResourceDefinition crd = client.getKubernetesSerialization().unmarshal(Files.readString(Path.of("../crds", f)), CustomResourceDefinition.class);
      client.resource(crd).createOr(NonDeletingOperation::update);
      client.apiextensions().v1().customResourceDefinitions().withName(crd.getMetadata().getName())
          .waitUntilCondition(c -> c.getStatus() != null && c.getStatus().getConditions() != null
              && c.getStatus().getConditions().stream().anyMatch(x -> x.getType().equals("Established") && x.getStatus().equals("True")), 60, TimeUnit.SECONDS);
    }
  }

  static void namespace(KubernetesClient client, String ns) {
    client.resource(new NamespaceBuilder().withNewMetadata().withName(ns).endMetadata().build()).serverSideApply();
  }

  /**
   * What a rendered chart holds but its CRDs (created above: 1.20 refuses their CEL rules in an
   * apply) and its Deployment (no pod runs here), into the namespaces it names, made first.
   * Returns the Deployment, whose environment tells how the chart runs the operator.
   */
  static io.fabric8.kubernetes.api.model.apps.Deployment applyChart(KubernetesClient client, Path rendered) throws IOException {
    io.fabric8.kubernetes.api.model.apps.Deployment deployment = null;
    for (io.fabric8.kubernetes.api.model.HasMetadata o : client.load(Files.newInputStream(rendered)).items()) {
      if (o instanceof io.fabric8.kubernetes.api.model.apps.Deployment d) {
        deployment = d;
      } else if (!o.getKind().equals("CustomResourceDefinition")) {
        if (o.getMetadata().getNamespace() != null) {
          namespace(client, o.getMetadata().getNamespace());
        }
        client.resource(o).fieldManager("sftp-it").forceConflicts().serverSideApply();
      }
    }
    return deployment;
  }

  /**
   * A kubeconfig that authenticates with a token of the ServiceAccount (made by the API server's
   * TokenRequest, as the kubelet mounts it), its default namespace that of the account.
   */
  static Path serviceAccountKubeconfig(KubernetesClient client, String ns, String account, Path file) throws IOException {
    String token = client.serviceAccounts().inNamespace(ns).withName(account)
        .tokenRequest(new TokenRequestBuilder().withNewSpec().withExpirationSeconds(3600L).endSpec().build())
        .getStatus().getToken();
    String admin = Files.readString(adminKubeconfig());
    Matcher server = Pattern.compile("server: (\\S+)").matcher(admin);
    Matcher ca = Pattern.compile("certificate-authority-data: (\\S+)").matcher(admin);
    assertThat(server.find() && ca.find()).isTrue();
    return Files.writeString(file, String.join("\n",
        "apiVersion: v1", "kind: Config", "clusters:", "- name: c", "  cluster:", "    server: " + server.group(1), "    certificate-authority-data: " + ca.group(1),
        "users:", "- name: sa", "  user:", "    token: " + token, "contexts:", "- name: c", "  context: {cluster: c, user: sa, namespace: " + ns + "}",
        "current-context: c", ""));
  }
}
