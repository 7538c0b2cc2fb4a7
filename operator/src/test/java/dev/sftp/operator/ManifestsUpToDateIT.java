package dev.sftp.operator;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * deploy/sftp-operator.yaml is what the chart renders with its default values (.ci/run renders
 * the chart with the real helm into SFTP_IT_CHART), behind a Namespace: regenerate it with
 * deploy/render after changing the chart.
 */
class ManifestsUpToDateIT {
  @Test
  void plainManifestsAreTheChartsDefaultRender() throws Exception {
    String chart = System.getenv("SFTP_IT_CHART");
    Assumptions.assumeTrue(chart != null && Files.isRegularFile(Path.of(chart)), "SFTP_IT_CHART is not set: .ci/run renders the chart for this test");
    String manifests = Files.readString(Path.of("../deploy/sftp-operator.yaml"));
    String rendered = Files.readString(Path.of(chart));
    int start = manifests.indexOf("---\n");
    assertThat(start).isPositive();
    assertThat(manifests.substring(start)).as("deploy/sftp-operator.yaml is stale: run deploy/render").isEqualTo(rendered);
    // What it holds: the namespace, the CRDs, the operator and its rights.
    List<String> kinds = java.util.regex.Pattern.compile("(?m)^kind: (\\w+)$").matcher(manifests).results().map(m -> m.group(1)).toList();
    assertThat(kinds).containsExactlyInAnyOrder("Namespace", "CustomResourceDefinition", "CustomResourceDefinition", "ServiceAccount",
        "ClusterRole", "ClusterRoleBinding", "Deployment");
  }

  /** The chart installs the images of this build: its appVersion is the project's version. */
  @Test
  void theChartsAppVersionIsTheProjectVersion() throws Exception {
    java.util.regex.Matcher pom = java.util.regex.Pattern.compile("<artifactId>sftp-gateway-parent</artifactId>\\s*<version>([^<]+)</version>")
        .matcher(Files.readString(Path.of("../pom.xml")));
    assertThat(pom.find()).isTrue();
    assertThat(Files.readString(Path.of("../helm/sftp-operator/Chart.yaml"))).as("helm/sftp-operator/Chart.yaml appVersion")
        .containsPattern("(?m)^appVersion: \"" + java.util.regex.Pattern.quote(pom.group(1)) + "\"$");
  }
}
