package dev.sftp.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.Service;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatewayRenderTest {
  static SftpGateway gateway() {
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName("files").withNamespace("team-a").withUid("uid-1").withGeneration(1L).build());
    gw.setSpec(new SftpGatewaySpec());
    return gw;
  }

  static final Map<String, String> KEYS = Map.of("ssh_host_ed25519_key", "a2V5", "ssh_host_ed25519_key.pub", "cHVi");

  @Test
  void smallestGatewayRendersARestrictedDeployment() {
    SftpGateway gw = gateway();
    Deployment d = GatewayRender.deployment(gw, "img:1", "hash");
    var pod = d.getSpec().getTemplate().getSpec();
    assertThat(d.getSpec().getReplicas()).isEqualTo(1);
    assertThat(d.getSpec().getStrategy().getType()).isEqualTo("Recreate");
    assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
    assertThat(pod.getSecurityContext().getFsGroup()).isEqualTo(1000L);
    assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
    // The pod's token serves only to watch its own user shard Secrets and to report what it
    // serves into its own ConfigMap, by name.
    assertThat(pod.getAutomountServiceAccountToken()).isTrue();
    assertThat(GatewayRender.serviceAccount(gw).getAutomountServiceAccountToken()).isFalse();
    var rule = GatewayRender.gatewayRole(gw).getRules();
    assertThat(rule).hasSize(2);
    assertThat(rule.get(0).getResources()).containsExactly("secrets");
    assertThat(rule.get(0).getVerbs()).containsExactly("get", "list", "watch");
    assertThat(rule.get(0).getResourceNames()).hasSize(16).allMatch(n -> n.matches("files-users-\\d\\d")).doesNotContain("files-host-keys", "files-config");
    assertThat(rule.get(1).getResources()).containsExactly("configmaps");
    assertThat(rule.get(1).getVerbs()).containsExactly("get", "patch");
    assertThat(rule.get(1).getResourceNames()).containsExactly("files-serving");
    assertThat(pod.getContainers().get(0).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("GATEWAY_KUBERNETES_POD_NAME");
      assertThat(e.getValueFrom().getFieldRef().getFieldPath()).isEqualTo("metadata.name");
    });
    assertThat(pod.getContainers().get(0).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("GATEWAY_KUBERNETES_SERVING_CONFIG_MAP");
      assertThat(e.getValue()).isEqualTo("files-serving");
    });
    assertThat(Names.servingGatewayKey(GatewayRender.servingConfigMap(gw))).isEqualTo(gw.getMetadata().getNamespace() + "/files");
    assertThat(GatewayRender.gatewayRoleBinding(gw).getSubjects()).singleElement().satisfies(sub -> assertThat(sub.getName()).isEqualTo("files"));
    assertThat(pod.getContainers().get(0).getEnv()).anySatisfy(e -> {
      assertThat(e.getName()).isEqualTo("GATEWAY_KUBERNETES_USER_SECRETS");
      assertThat(e.getValue()).isEqualTo(String.join(",", GatewayRender.userShardNames(gw)));
    });
    var c = pod.getContainers().get(0);
    assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
    assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
    assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
    assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/q/health/ready");
    assertThat(c.getLivenessProbe().getHttpGet().getPort().getStrVal()).isEqualTo("management");
    assertThat(d.getSpec().getTemplate().getMetadata().getAnnotations()).containsEntry("sftp.dev/config-hash", "hash");
    assertThat(d.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "sftp-operator").containsEntry("app.kubernetes.io/instance", "files");
    assertThat(d.getMetadata().getOwnerReferences()).singleElement().satisfies(o -> assertThat(o.getUid()).isEqualTo("uid-1"));
  }

  @Test
  void theJvmIsSizedSoThatTheProcessFitsUnderTheMemoryLimit() {
    SftpGateway gw = gateway();
    // No resources in the spec: the default 1Gi limit.
    assertThat(javaOptions(gw)).isEqualTo("-Xmx644m -Xms322m -XX:MaxDirectMemorySize=102m -Djdk.nio.maxCachedBufferSize=262144");
    var defaults = GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getSpec().getContainers().get(0).getResources();
    assertThat(defaults.getLimits()).containsOnlyKeys("memory").containsEntry("memory", new Quantity("1Gi"));
    assertThat(defaults.getRequests()).containsEntry("cpu", new Quantity("250m")).containsEntry("memory", new Quantity("1Gi"));
    gw.getSpec().resources = new ResourceRequirementsBuilder().withRequests(Map.of("memory", new Quantity("64Mi"))).build();
    assertThat(javaOptions(gw)).isEqualTo("-Xms512m"); // a request does not bound the JVM: the image's share applies
    gw.getSpec().resources = new ResourceRequirementsBuilder().withLimits(Map.of("memory", new Quantity("512Mi"))).build();
    assertThat(javaOptions(gw)).isEqualTo("-Xmx234m -Xms117m -XX:MaxDirectMemorySize=51m -Djdk.nio.maxCachedBufferSize=262144 -XX:ReservedCodeCacheSize=64m");
    // Heap, direct buffers, the rest (176 MiB) and a tenth of margin never pass the limit, from 512 MiB up.
    for (String limit : List.of("512Mi", "768Mi", "1Gi", "1500Mi", "4Gi", "2G", "64Gi")) {
      gw.getSpec().resources = new ResourceRequirementsBuilder().withLimits(Map.of("memory", new Quantity(limit))).build();
      long limitMiB = Quantity.getAmountInBytes(new Quantity(limit)).longValue() >> 20;
      java.util.regex.Matcher m = java.util.regex.Pattern.compile("-Xmx(\\d+)m -Xms(\\d+)m -XX:MaxDirectMemorySize=(\\d+)m").matcher(javaOptions(gw));
      assertThat(m.find()).isTrue();
      long heap = Long.parseLong(m.group(1));
      long floor = Long.parseLong(m.group(2));
      long direct = Long.parseLong(m.group(3));
      assertThat(heap + direct + 176 + limitMiB / 10).as(limit).isLessThanOrEqualTo(limitMiB);
      assertThat(floor).as(limit).isLessThanOrEqualTo(heap / 2).isLessThanOrEqualTo(512);
    }
    // Too small to serve well: the heap keeps its minimum.
    gw.getSpec().resources = new ResourceRequirementsBuilder().withLimits(Map.of("memory", new Quantity("256Mi"))).build();
    assertThat(javaOptions(gw)).startsWith("-Xmx64m -Xms32m ");
    var env = GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    assertThat(env).anyMatch(e -> e.getName().equals("MALLOC_ARENA_MAX") && e.getValue().equals("2"));
  }

  static String javaOptions(SftpGateway gw) {
    var env = GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getSpec().getContainers().get(0).getEnv();
    String opts = env.stream().filter(e -> e.getName().equals("JDK_JAVA_OPTIONS")).findFirst().orElseThrow().getValue();
    // The kernel-checked paths need the directory descriptors opened, whatever the heap.
    String opens = " --add-opens=java.base/sun.nio.fs=ALL-UNNAMED";
    assertThat(opts).endsWith(opens);
    return opts.substring(0, opts.indexOf(" --add-opens"));
  }

  @Test
  void podsTellPrometheusWhereTheirMetricsAreUnlessTheSpecSaysOtherwise() {
    SftpGateway gw = gateway();
    assertThat(GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "true").containsEntry("prometheus.io/port", "9000").containsEntry("prometheus.io/path", "/q/metrics");
    gw.getSpec().podAnnotations = Map.of("prometheus.io/scrape", "false");
    assertThat(GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getMetadata().getAnnotations())
        .containsEntry("prometheus.io/scrape", "false");
  }

  @Test
  void thePodWaitsLongerThanTheGatewayDrains() {
    SftpGateway gw = gateway();
    assertThat(GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(30L);
    gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
    gw.getSpec().server.shutdownGraceSeconds = 120;
    assertThat(GatewayRender.deployment(gw, "i", "h").getSpec().getTemplate().getSpec().getTerminationGracePeriodSeconds()).isEqualTo(125L);
  }

  @Test
  void renderingIsDeterministic() {
    SftpGateway gw = gateway();
    gw.getSpec().podAnnotations = Map.of("b", "2", "a", "1");
    assertThat(GatewayRender.deployment(gw, "i", "h")).isEqualTo(GatewayRender.deployment(gw, "i", "h"));
    ServerSettings s = GatewayRender.serverSettings(gw, GatewayRender.hostKeyFiles(KEYS));
    assertThat(GatewayRender.configSecret(gw, s, List.of())).isEqualTo(GatewayRender.configSecret(gw, s, List.of()));
  }

  @Test
  void usersDoNotChangeTheConfigHashButServerSettingsAndKeysDo() {
    SftpGateway gw = gateway();
    ServerSettings s = GatewayRender.serverSettings(gw, GatewayRender.hostKeyFiles(KEYS));
    String h = GatewayRender.configHash(s, KEYS);
    // The hash takes no users at all; a different banner or key changes it.
    gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
    gw.getSpec().server.banner = "hello";
    assertThat(GatewayRender.configHash(GatewayRender.serverSettings(gw, GatewayRender.hostKeyFiles(KEYS)), KEYS)).isNotEqualTo(h);
    assertThat(GatewayRender.configHash(s, Map.of("ssh_host_ed25519_key", "b3RoZXI="))).isNotEqualTo(h);
    assertThat(GatewayRender.configHash(s, KEYS)).isEqualTo(h);
  }

  @Test
  void everyServerSettingOfTheSpecReachesTheContract() {
    // The spec's server fields and the contract's are the same names: a field added to one and
    // not mapped by serverSettings would be silently dropped.
    java.util.Set<String> contract = java.util.Arrays.stream(ServerSettings.class.getRecordComponents())
        .map(java.lang.reflect.RecordComponent::getName).collect(java.util.stream.Collectors.toSet());
    for (java.lang.reflect.Field f : SftpGatewaySpec.ServerSpec.class.getFields()) {
      assertThat(contract).as("contract field for spec.server." + f.getName()).contains(f.getName());
    }
    SftpGateway gw = gateway();
    gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
    gw.getSpec().server.uploadMode = "Atomic";
    assertThat(GatewayRender.serverSettings(gw, List.of()).uploadModeOrDefault()).isEqualTo(dev.sftp.contract.UploadMode.ATOMIC);
    gw.getSpec().server.userMetrics = new SftpGatewaySpec.UserMetricsSpec();
    gw.getSpec().server.userMetrics.top = 20;
    assertThat(GatewayRender.serverSettings(gw, List.of()).userMetricsOrDefault().topOrDefault()).isEqualTo(20);
  }

  @Test
  void configSecretHoldsTheContractTheGatewayReads() throws Exception {
    SftpGateway gw = gateway();
    ServerSettings s = GatewayRender.serverSettings(gw, GatewayRender.hostKeyFiles(KEYS));
    var secret = GatewayRender.configSecret(gw, s, List.of(UserEntry.of("u", null, List.of("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS t"))));
    String json = new String(Base64.getDecoder().decode(secret.getData().get("gateway.json")), StandardCharsets.UTF_8);
    GatewayConfig doc = ContractJson.mapper().readValue(json, GatewayConfig.class);
    assertThat(doc.apiVersion()).isEqualTo(GatewayConfig.API_VERSION);
    assertThat(doc.server().hostKeys()).containsExactly("ssh_host_ed25519_key");
    assertThat(doc.server().port()).isEqualTo(2222);
    assertThat(doc.server().dataRoot()).isEqualTo("/data");
    assertThat(doc.users()).extracting(UserEntry::name).containsExactly("u");
  }

  @Test
  void serviceTypesAndRetention() {
    SftpGateway gw = gateway();
    Service svc = GatewayRender.service(gw);
    assertThat(svc.getSpec().getType()).isEqualTo("ClusterIP");
    assertThat(svc.getSpec().getPorts().get(0).getPort()).isEqualTo(22);
    assertThat(svc.getSpec().getPorts().get(0).getProtocol()).isEqualTo("TCP");
    assertThat(svc.getSpec().getPorts().get(0).getTargetPort().getStrVal()).isEqualTo("sftp");
    gw.getSpec().service = new SftpGatewaySpec.ServiceSpec();
    gw.getSpec().service.type = "LoadBalancer";
    gw.getSpec().service.port = 2022;
    gw.getSpec().service.loadBalancerSourceRanges = List.of("203.0.113.0/24");
    gw.getSpec().service.externalTrafficPolicy = "Local";
    svc = GatewayRender.service(gw);
    assertThat(svc.getSpec().getLoadBalancerSourceRanges()).containsExactly("203.0.113.0/24");
    assertThat(svc.getSpec().getExternalTrafficPolicy()).isEqualTo("Local");
    // Retain by default: the claim and generated host keys are not owned, so not garbage collected.
    assertThat(GatewayRender.claim(gw).getMetadata().getOwnerReferences()).isEmpty();
    assertThat(GatewayRender.hostKeySecret(gw, Map.of("k", "v")).getMetadata().getOwnerReferences()).isEmpty();
    gw.getSpec().storage = new SftpGatewaySpec.StorageSpec();
    gw.getSpec().storage.deletionPolicy = "Delete";
    assertThat(GatewayRender.claim(gw).getMetadata().getOwnerReferences()).hasSize(1);
  }

  @Test
  void sharedVolumesRollAndPdbLimitsDisruption() {
    SftpGateway gw = gateway();
    gw.getSpec().replicas = 3;
    gw.getSpec().storage = new SftpGatewaySpec.StorageSpec();
    gw.getSpec().storage.accessModes = List.of("ReadWriteMany");
    assertThat(GatewayRender.deployment(gw, "i", "h").getSpec().getStrategy().getType()).isEqualTo("RollingUpdate");
    assertThat(GatewayRender.podDisruptionBudget(gw).getSpec().getMaxUnavailable().getIntVal()).isEqualTo(1);
  }

  @Test
  void hostKeysAreGeneratedParsedAndFingerprinted() {
    Map<String, String> generated = HostKeyMaterial.generate();
    assertThat(generated).containsOnlyKeys("ssh_host_ed25519_key", "ssh_host_ecdsa_key", "ssh_host_rsa_key");
    var secret = GatewayRender.hostKeySecret(gateway(), generated);
    var parsed = HostKeyMaterial.parse(secret.getData());
    assertThat(parsed).extracting(HostKeyMaterial.ParsedKey::type).containsExactly("ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa");
    assertThat(parsed).allSatisfy(k -> assertThat(k.fingerprint()).startsWith("SHA256:"));
    assertThat(HostKeyMaterial.knownHosts("h.example", 2022, parsed)).startsWith("[h.example]:2022 ecdsa-sha2-nistp256 AAAA");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostKeyMaterial.parse(Map.of("ssh_host_ed25519_key", Base64.getEncoder().encodeToString("garbage".getBytes()))))
        .hasMessageContaining("data key 'ssh_host_ed25519_key' is not a private key");
  }
}
