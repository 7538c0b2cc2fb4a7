package dev.sftp.operator.render;

import dev.sftp.contract.AlgorithmProfile;
import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.SetstatMode;
import dev.sftp.contract.UploadMode;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import io.fabric8.kubernetes.api.model.ContainerBuilder;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaimBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.ResourceRequirements;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.ServiceAccountBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.ServicePortBuilder;
import io.fabric8.kubernetes.api.model.VolumeBuilder;
import io.fabric8.kubernetes.api.model.VolumeMountBuilder;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.apps.DeploymentBuilder;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudgetBuilder;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.api.model.rbac.RoleBindingBuilder;
import io.fabric8.kubernetes.api.model.rbac.RoleBuilder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Pure functions from an {@link SftpGateway} (and what was read for it) to the objects it
 * should own. No client calls, no clock, no randomness: the same input gives the same objects.
 */
public final class GatewayRender {
  public static final int SFTP_PORT = 2222;
  public static final int MANAGEMENT_PORT = 9000;
  public static final String CONFIG_DIR = "/etc/sftp-gateway";
  public static final String DATA_DIR = "/data";
  public static final long UID = 1000;

  private GatewayRender() {}

  static SftpGatewaySpec spec(SftpGateway gw) {
    return gw.getSpec() == null ? new SftpGatewaySpec() : gw.getSpec();
  }

  public static int replicas(SftpGateway gw) {
    return spec(gw).replicas == null ? 1 : spec(gw).replicas;
  }

  public static List<String> accessModes(SftpGateway gw) {
    SftpGatewaySpec.StorageSpec st = spec(gw).storage;
    return st == null || st.accessModes == null || st.accessModes.isEmpty() ? List.of("ReadWriteOnce") : st.accessModes;
  }

  public static boolean retains(String deletionPolicy) {
    return !"Delete".equals(deletionPolicy);
  }

  static OwnerReference owner(SftpGateway gw) {
    return new OwnerReferenceBuilder()
        .withApiVersion(gw.getApiVersion())
        .withKind(gw.getKind())
        .withName(gw.getMetadata().getName())
        .withUid(gw.getMetadata().getUid())
        .withController(true)
        .withBlockOwnerDeletion(true)
        .build();
  }

  static ObjectMeta meta(SftpGateway gw, String name, boolean owned) {
    ObjectMetaBuilder b = new ObjectMetaBuilder()
        .withName(name)
        .withNamespace(gw.getMetadata().getNamespace())
        .withLabels(Names.labels(gw));
    if (owned) {
      b.withOwnerReferences(owner(gw));
    }
    return b.build();
  }

  /** The server settings of the contract, from the spec and the host key file names. */
  public static ServerSettings serverSettings(SftpGateway gw, List<String> hostKeyFiles) {
    SftpGatewaySpec.ServerSpec s = spec(gw).server == null ? new SftpGatewaySpec.ServerSpec() : spec(gw).server;
    return new ServerSettings("0.0.0.0", SFTP_PORT, List.copyOf(hostKeyFiles), DATA_DIR, s.banner,
        s.idleTimeoutSeconds, s.maxSessions, s.maxSessionsPerUser,
        s.algorithmProfile == null ? null : AlgorithmProfile.fromWire(s.algorithmProfile),
        s.setstatMode == null ? null : SetstatMode.fromWire(s.setstatMode), s.umask, s.fsyncOnClose, s.maxAuthTries,
        s.defender == null ? null : new dev.sftp.contract.DefenderSettings(s.defender.enabled, s.defender.maxFailures, s.defender.windowSeconds,
            s.defender.banSeconds, s.defender.allowCidrs),
        s.loginGraceTimeSeconds, s.maxStartups, s.maxStartupsPerAddress, s.maxChannelsPerSession, s.maxOpenHandlesPerChannel,
        s.maxSessionsPerAddress, s.maxSftpPacketBytes, s.maxPendingRequestBytes, s.shutdownGraceSeconds,
        s.proxyProtocol == null ? null : new dev.sftp.contract.ProxyProtocolSettings(s.proxyProtocol.mode, s.proxyProtocol.trustedCidrs),
        s.uploadMode == null ? null : UploadMode.fromWire(s.uploadMode),
        s.userMetrics == null ? null : new dev.sftp.contract.UserMetricsSettings(s.userMetrics.top, s.userMetrics.users));
  }

  /** Host key file names: the Secret's data keys that are not {@code .pub} files, sorted. */
  public static List<String> hostKeyFiles(Map<String, String> hostKeyData) {
    List<String> out = new ArrayList<>();
    for (String k : new TreeMap<>(hostKeyData).keySet()) {
      if (!k.endsWith(".pub")) {
        out.add(k);
      }
    }
    return out;
  }

  /**
   * What must restart the pods when it changes: server settings and host keys. Users are not
   * part of it: the gateway reloads them live.
   */
  public static String configHash(ServerSettings server, Map<String, String> hostKeyData) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(ContractJson.write(server).getBytes(StandardCharsets.UTF_8));
      for (Map.Entry<String, String> e : new TreeMap<>(hostKeyData).entrySet()) {
        md.update(e.getKey().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
        md.update(e.getValue().getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 32);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The shard a login name lives in: a stable hash, so that a user's change rewrites one shard
   * Secret only.
   */
  public static int shardOf(String login) {
    int h = 0x811c9dc5;
    for (byte b : login.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x01000193;
    }
    return Math.floorMod(h, Names.USER_SHARDS);
  }

  /**
   * The users split across {@value Names#USER_SHARDS} Secrets ({@code <name>-users-NN}, each one
   * {@code users-NN.json} user list), every one always present, so that a Secret stays far below
   * the 1 MiB limit and the pod's projected volume never changes.
   */
  public static List<Secret> userShards(SftpGateway gw, List<UserEntry> users) {
    List<List<UserEntry>> shards = byShard(users);
    List<Secret> out = new ArrayList<>();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      out.add(userShard(gw, i, shards.get(i)));
    }
    return out;
  }

  /** The users of each shard ({@link #shardOf}), sorted by login. */
  public static List<List<UserEntry>> byShard(List<UserEntry> users) {
    List<List<UserEntry>> shards = new ArrayList<>();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      shards.add(new ArrayList<>());
    }
    users.stream().sorted(java.util.Comparator.comparing(UserEntry::name)).forEach(u -> shards.get(shardOf(u.name())).add(u));
    return shards;
  }

  /**
   * One shard's Secret, from that shard's users ({@link #byShard}). Made one at a time where they
   * are written: a shard's JSON and base64 at 10,000 users are ~0.4 MB, and a pass that held all
   * sixteen at once added ~6 MiB to the operator's peak heap.
   */
  public static Secret userShard(SftpGateway gw, int shard, List<UserEntry> users) {
    String json = ContractJson.write(dev.sftp.contract.UserList.of(users));
    return new SecretBuilder()
        .withMetadata(meta(gw, Names.userShardSecret(gw, shard), true))
        .withType("Opaque")
        .withData(Map.of(Names.userShardFile(shard), Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8))))
        .build();
  }

  /** The rendered contract Secret: {@code gateway.json} with the server settings (users live in the shards). */
  public static Secret configSecret(SftpGateway gw, ServerSettings server, List<UserEntry> users) {
    String json = ContractJson.write(GatewayConfig.of(server, users));
    return new SecretBuilder()
        .withMetadata(meta(gw, Names.configSecret(gw), true))
        .withType("Opaque")
        .withData(Map.of(dev.sftp.contract.ConfigDirectory.MAIN_FILE, Base64.getEncoder().encodeToString(json.getBytes(StandardCharsets.UTF_8))))
        .build();
  }

  /** A generated host key Secret; owned by the gateway only when its deletion policy is Delete. */
  public static Secret hostKeySecret(SftpGateway gw, Map<String, String> privateKeys) {
    Map<String, String> data = new TreeMap<>();
    privateKeys.forEach((k, v) -> data.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
    boolean owned = spec(gw).hostKeys != null && !retains(spec(gw).hostKeys.deletionPolicy);
    return new SecretBuilder().withMetadata(meta(gw, Names.hostKeySecret(gw), owned)).withType("Opaque").withData(data).build();
  }

  public static PersistentVolumeClaim claim(SftpGateway gw) {
    SftpGatewaySpec.StorageSpec st = spec(gw).storage == null ? new SftpGatewaySpec.StorageSpec() : spec(gw).storage;
    return new PersistentVolumeClaimBuilder()
        .withMetadata(meta(gw, Names.claim(gw), !retains(st.deletionPolicy)))
        .withNewSpec()
        .withAccessModes(accessModes(gw))
        .withStorageClassName(st.storageClassName)
        .withNewResources()
        .withRequests(Map.of("storage", new Quantity(st.size == null ? "10Gi" : st.size)))
        .endResources()
        .endSpec()
        .build();
  }

  public static ServiceAccount serviceAccount(SftpGateway gw) {
    // No token by default: only the gateway's own pod asks for one (automountServiceAccountToken).
    return new ServiceAccountBuilder().withMetadata(meta(gw, Names.serviceAccount(gw), true)).withAutomountServiceAccountToken(false).build();
  }

  /** The names of the user shard Secrets, which the gateway follows through the API. */
  public static List<String> userShardNames(SftpGateway gw) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      out.add(Names.userShardSecret(gw, i));
    }
    return out;
  }

  /**
   * What the gateway may read through the API: get, list and watch of its own user shard Secrets,
   * by name, and nothing else (not its host keys, not any other Secret of the namespace). The
   * kubelet refreshes mounted Secrets only on its sync period (up to a minute or more); watching
   * them lets a user change take effect within a second.
   */
  public static Role gatewayRole(SftpGateway gw) {
    return new RoleBuilder()
        .withMetadata(meta(gw, Names.serviceAccount(gw), true))
        .addNewRule().withApiGroups("").withResources("secrets").withVerbs("get", "list", "watch").withResourceNames(userShardNames(gw)).endRule()
        // Where each pod reports the user lists it serves: patch of its gateway's ConfigMap only.
        .addNewRule().withApiGroups("").withResources("configmaps").withVerbs("get", "patch").withResourceNames(Names.servingConfigMap(gw)).endRule()
        .build();
  }

  /**
   * The ConfigMap the gateway's pods report what they serve into, one data key per pod (written
   * by the pods, pruned by the operator): without data, so that applying it never touches what
   * the pods wrote.
   */
  public static io.fabric8.kubernetes.api.model.ConfigMap servingConfigMap(SftpGateway gw) {
    return new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withMetadata(meta(gw, Names.servingConfigMap(gw), true)).build();
  }

  public static RoleBinding gatewayRoleBinding(SftpGateway gw) {
    return new RoleBindingBuilder()
        .withMetadata(meta(gw, Names.serviceAccount(gw), true))
        .withNewRoleRef().withApiGroup("rbac.authorization.k8s.io").withKind("Role").withName(Names.serviceAccount(gw)).endRoleRef()
        .addNewSubject().withKind("ServiceAccount").withName(Names.serviceAccount(gw)).withNamespace(gw.getMetadata().getNamespace()).endSubject()
        .build();
  }

  public static Service service(SftpGateway gw) {
    SftpGatewaySpec.ServiceSpec s = spec(gw).service == null ? new SftpGatewaySpec.ServiceSpec() : spec(gw).service;
    String type = s.type == null ? "ClusterIP" : s.type;
    ObjectMeta m = meta(gw, Names.service(gw), true);
    if (s.annotations != null && !s.annotations.isEmpty()) {
      m.setAnnotations(new TreeMap<>(s.annotations));
    }
    return new ServiceBuilder()
        .withMetadata(m)
        .withNewSpec()
        .withType(type)
        .withSelector(Names.selector(gw))
        .withPorts(new ServicePortBuilder().withName("sftp").withProtocol("TCP").withPort(s.port == null ? 22 : s.port)
            .withTargetPort(new IntOrString("sftp")).withNodePort("ClusterIP".equals(type) ? null : s.nodePort).build())
        .withLoadBalancerSourceRanges("LoadBalancer".equals(type) && s.loadBalancerSourceRanges != null ? s.loadBalancerSourceRanges : null)
        .withExternalTrafficPolicy("ClusterIP".equals(type) ? null : s.externalTrafficPolicy)
        .endSpec()
        .build();
  }

  public static PodDisruptionBudget podDisruptionBudget(SftpGateway gw) {
    return new PodDisruptionBudgetBuilder()
        .withMetadata(meta(gw, Names.pdb(gw), true))
        .withNewSpec()
        .withMaxUnavailable(new IntOrString(1))
        .withNewSelector().withMatchLabels(Names.selector(gw)).endSelector()
        .endSpec()
        .build();
  }

  /** The mode of every file of the config directory in the pod (and as {@code render} writes it). */
  public static final int CONFIG_FILE_MODE = 0440;

  /** {@link #CONFIG_FILE_MODE} as permissions. */
  public static java.util.Set<java.nio.file.attribute.PosixFilePermission> configFilePermissions() {
    java.util.Set<java.nio.file.attribute.PosixFilePermission> p = java.util.EnumSet.noneOf(java.nio.file.attribute.PosixFilePermission.class);
    java.nio.file.attribute.PosixFilePermission[] bits = java.nio.file.attribute.PosixFilePermission.values(); // OWNER_READ .. OTHERS_EXECUTE
    for (int i = 0; i < 9; i++) {
      if ((CONFIG_FILE_MODE & (0400 >> i)) != 0) {
        p.add(bits[i]);
      }
    }
    return p;
  }

  static io.fabric8.kubernetes.api.model.Volume configVolume(SftpGateway gw) {
    var projected = new io.fabric8.kubernetes.api.model.ProjectedVolumeSourceBuilder().withDefaultMode(CONFIG_FILE_MODE)
        .addNewSource().withNewSecret().withName(Names.configSecret(gw)).endSecret().endSource()
        .addNewSource().withNewSecret().withName(Names.hostKeySecret(gw)).endSecret().endSource();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      projected.addNewSource().withNewSecret().withName(Names.userShardSecret(gw, i)).withOptional(true).endSecret().endSource();
    }
    return new VolumeBuilder().withName("config").withProjected(projected.build()).build();
  }

  /**
   * The gateway container's resources when the spec sets none: a 1 GiB memory limit (so that the
   * JVM sizes itself from the container, not from the node: 768 MiB of heap), a matching memory
   * request, a quarter core requested and no CPU limit (throttling costs the encryption of every
   * transfer). The spec's {@code resources}, when present, are used as given.
   */
  public static ResourceRequirements resourcesOrDefault(SftpGatewaySpec sp) {
    if (sp.resources != null) {
      return sp.resources;
    }
    return new io.fabric8.kubernetes.api.model.ResourceRequirementsBuilder()
        .withRequests(Map.of("cpu", new Quantity("250m"), "memory", new Quantity("1Gi")))
        .withLimits(Map.of("memory", new Quantity("1Gi")))
        .build();
  }

  /** The most heap the gateway keeps however little it holds, when the container allows it. */
  static final long HEAP_FLOOR_MIB = 512;

  /**
   * What the gateway's process takes besides its heap and direct buffers, in MiB: metaspace
   * (~70 MiB with Quarkus, MINA and the Kubernetes client), the code cache (capped at 64 MiB under
   * 1 GiB), thread stacks, G1's own structures and the C heap (two malloc arenas, {@code
   * MALLOC_ARENA_MAX=2}).
   */
  static final long NON_HEAP_MIB = 176;

  /**
   * The JVM's memory options, sized from the container's memory limit so that the whole process
   * stays under it: the image's 75% heap share leaves too little for the rest of a small pod (a
   * 512 MiB pod peaked at 542 MiB with 64 transfers, docs/benchmarks.md). Of the limit, a tenth
   * is kept as margin, a tenth (32 to 256 MiB) for direct buffers (the JDK's temporary buffers of
   * socket and file I/O), {@value #NON_HEAP_MIB} MiB for the rest, and the heap gets what
   * remains (at least 64 MiB). Its floor ({@code -Xms}) is {@value #HEAP_FLOOR_MIB} MiB or half
   * the heap: without a floor G1 shrinks the heap to a few times the live data (~20 MiB) after a
   * burst, and the next transfers run with a young collection every fraction of a second (a 1 GiB
   * download then costs 1.5x the CPU). Without a limit, the image's percentages apply and only
   * the floor is set.
   */
  public static String jvmMemoryOptions(ResourceRequirements resources) {
    Quantity limit = resources == null || resources.getLimits() == null ? null : resources.getLimits().get("memory");
    if (limit == null) {
      return "-Xms" + HEAP_FLOOR_MIB + "m";
    }
    long limitMiB = Quantity.getAmountInBytes(limit).longValue() >> 20;
    long direct = Math.max(32, Math.min(256, limitMiB / 10));
    long heap = Math.max(64, limitMiB - limitMiB / 10 - direct - NON_HEAP_MIB);
    long floor = Math.max(8, Math.min(HEAP_FLOOR_MIB, heap / 2));
    return "-Xmx" + heap + "m -Xms" + floor + "m -XX:MaxDirectMemorySize=" + direct + "m -Djdk.nio.maxCachedBufferSize=262144"
        + (limitMiB < 1024 ? " -XX:ReservedCodeCacheSize=64m" : "");
  }

  public static Deployment deployment(SftpGateway gw, String image, String configHash) {
    SftpGatewaySpec sp = spec(gw);
    Map<String, String> podLabels = new LinkedHashMap<>();
    if (sp.podLabels != null) {
      podLabels.putAll(new TreeMap<>(sp.podLabels));
    }
    podLabels.putAll(Names.labels(gw));
    Map<String, String> podAnnotations = new TreeMap<>();
    // Where Prometheus finds the gateway's metrics, for scrape configs that follow these
    // annotations (a PodMonitor selects the "management" port by name instead); the spec's own
    // annotations win.
    podAnnotations.put("prometheus.io/scrape", "true");
    podAnnotations.put("prometheus.io/port", String.valueOf(MANAGEMENT_PORT));
    podAnnotations.put("prometheus.io/path", "/q/metrics");
    if (sp.podAnnotations != null) {
      podAnnotations.putAll(sp.podAnnotations);
    }
    podAnnotations.put(Names.CONFIG_HASH, configHash);
    boolean shared = accessModes(gw).contains("ReadWriteMany");
    var container = new ContainerBuilder()
        .withName("gateway")
        .withImage(image)
        .addNewEnv().withName("GATEWAY_CONFIG_DIR").withValue(CONFIG_DIR).endEnv()
        .addNewEnv().withName("QUARKUS_MANAGEMENT_HOST").withValue("0.0.0.0").endEnv()
        // File names are UTF-8 (SFTP's encoding): the JVM takes the encoding of names from the
        // locale, and without one it reads every non-ASCII name as '?' and cannot serve it.
        .addNewEnv().withName("LANG").withValue("C.UTF-8").endEnv()
        .addNewEnv().withName("GATEWAY_KUBERNETES_NAMESPACE").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.namespace").endFieldRef().endValueFrom().endEnv()
        .addNewEnv().withName("GATEWAY_KUBERNETES_USER_SECRETS").withValue(String.join(",", userShardNames(gw))).endEnv()
        // Each pod reports what it serves under its own name (see servingConfigMap).
        .addNewEnv().withName("GATEWAY_KUBERNETES_POD_NAME").withNewValueFrom().withNewFieldRef().withFieldPath("metadata.name").endFieldRef().endValueFrom().endEnv()
        .addNewEnv().withName("GATEWAY_KUBERNETES_SERVING_CONFIG_MAP").withValue(Names.servingConfigMap(gw)).endEnv()
        // Read by the java launcher, added to the image's JAVA_TOOL_OPTIONS (see jvmMemoryOptions).
        // --add-opens: the descriptors of directories, with which the gateway has the kernel check
        // every path below the data root (gateway fs.Beneath; without it, user space only).
        .addNewEnv().withName("JDK_JAVA_OPTIONS").withValue(jvmMemoryOptions(resourcesOrDefault(sp)) + " " + Names.GATEWAY_JAVA_OPENS).endEnv()
        // glibc's malloc keeps an arena per thread by default (up to 8 per core), each holding
        // freed memory: two are enough for a JVM, whose heap is its own.
        .addNewEnv().withName("MALLOC_ARENA_MAX").withValue("2").endEnv()
        .addNewPort().withName("sftp").withContainerPort(SFTP_PORT).withProtocol("TCP").endPort()
        .addNewPort().withName("management").withContainerPort(MANAGEMENT_PORT).withProtocol("TCP").endPort()
        .withNewReadinessProbe().withNewHttpGet().withPath("/q/health/ready").withPort(new IntOrString("management")).endHttpGet()
        .withPeriodSeconds(5).withFailureThreshold(3).endReadinessProbe()
        .withNewLivenessProbe().withNewHttpGet().withPath("/q/health/live").withPort(new IntOrString("management")).endHttpGet()
        .withInitialDelaySeconds(10).withPeriodSeconds(10).withFailureThreshold(6).endLivenessProbe()
        .withResources(resourcesOrDefault(sp))
        .withNewSecurityContext()
        .withAllowPrivilegeEscalation(false).withReadOnlyRootFilesystem(true).withRunAsNonRoot(true)
        .withNewCapabilities().withDrop("ALL").endCapabilities()
        .endSecurityContext()
        .withVolumeMounts(
            new VolumeMountBuilder().withName("config").withMountPath(CONFIG_DIR).withReadOnly(true).build(),
            new VolumeMountBuilder().withName("data").withMountPath(DATA_DIR).build(),
            new VolumeMountBuilder().withName("tmp").withMountPath("/tmp").build())
        .build();
    return new DeploymentBuilder()
        .withMetadata(meta(gw, Names.deployment(gw), true))
        .withNewSpec()
        .withReplicas(replicas(gw))
        .withNewSelector().withMatchLabels(Names.selector(gw)).endSelector()
        // One writer on a ReadWriteOnce volume: the old pod must let go before the new one mounts it.
        .withNewStrategy().withType(shared ? "RollingUpdate" : "Recreate").endStrategy()
        .withNewTemplate()
        .withNewMetadata().withLabels(podLabels).withAnnotations(podAnnotations).endMetadata()
        .withNewSpec()
        .withServiceAccountName(Names.serviceAccount(gw))
        // The token lets the gateway watch its user shard Secrets (see gatewayRole).
        .withAutomountServiceAccountToken(true)
        .withEnableServiceLinks(false)
        .withNewSecurityContext()
        .withRunAsNonRoot(true).withRunAsUser(UID).withRunAsGroup(UID).withFsGroup(UID)
        .withFsGroupChangePolicy("OnRootMismatch")
        .withNewSeccompProfile().withType("RuntimeDefault").endSeccompProfile()
        .endSecurityContext()
        .withContainers(container)
        .withVolumes(
            configVolume(gw),
            new VolumeBuilder().withName("data").withNewPersistentVolumeClaim().withClaimName(Names.claim(gw)).endPersistentVolumeClaim().build(),
            new VolumeBuilder().withName("tmp").withNewEmptyDir().withMedium("Memory").withSizeLimit(new Quantity("64Mi")).endEmptyDir().build())
        .withNodeSelector(sp.nodeSelector == null ? null : new TreeMap<>(sp.nodeSelector))
        .withTolerations(sp.tolerations)
        .withAffinity(sp.affinity)
        // The gateway drains for shutdownGraceSeconds (the contract's default when unset), then
        // stops; the kubelet waits 5 s more before it kills.
        .withTerminationGracePeriodSeconds(serverSettings(gw, List.of()).shutdownGraceSecondsOrDefault() + 5L)
        .endSpec()
        .endTemplate()
        .endSpec()
        .build();
  }
}
