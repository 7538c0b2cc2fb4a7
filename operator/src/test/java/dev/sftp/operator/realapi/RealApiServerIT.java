package dev.sftp.operator.realapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.reconciler.SftpGatewayReconciler;
import dev.sftp.operator.reconciler.SftpUserReconciler;
import dev.sftp.operator.reconciler.UserDirectory;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
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
    String kubeconfig = RealApi.adminKubeconfig().toString();
    client = RealApi.admin();
    RealApi.createCrds(client);
    // The operator runs with only the rights the Helm chart grants it, when the chart is rendered.
    KubernetesClient operatorClient = client;
    String chart = System.getenv("SFTP_IT_CHART");
    if (chart != null && Files.exists(Path.of(chart))) {
      RealApi.namespace(client, "sftp-system");
      RealApi.applyChart(client, Path.of(chart));
      Config asOperator = Config.fromKubeconfig(Files.readString(Path.of(kubeconfig)));
      asOperator.setImpersonateUsername("system:serviceaccount:sftp-system:sftp");
      asOperator.setImpersonateGroups("system:serviceaccounts", "system:serviceaccounts:sftp-system", "system:authenticated");
      operatorClient = new KubernetesClientBuilder().withConfig(asOperator).build();
    }
    UserDirectory directory = new UserDirectory(operatorClient);
    // 1.20 has no policy/v1: the operator finds out by discovery and starts without that
    // informer (every informer is mandatory, as in the built operator).
    final KubernetesClient oc = operatorClient;
    operator = new Operator(o -> o.withKubernetesClient(oc).withCloseClientOnStop(false)
        .withCacheSyncTimeout(Duration.ofSeconds(15)));
    operator.register(new SftpGatewayReconciler(oc, directory, new dev.sftp.operator.reconciler.OperatorMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry()), true, "ghcr.io/sftp-dev/sftp-gateway:test", "auto"));
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
    RealApi.namespace(client, ns);
  }

  static GenericKubernetesResource raw(String ns, String name, Map<String, Object> spec) {
    GenericKubernetesResource r = new GenericKubernetesResource();
    r.setApiVersion("sftp.dev/v1alpha1");
    r.setKind("SftpGateway");
    r.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    r.setAdditionalProperties(new LinkedHashMap<>(Map.of("spec", spec)));
    return r;
  }

  /**
   * Kubernetes 1.20 serves no policy/v1: the operator started anyway (every informer mandatory),
   * and a gateway that would get a PodDisruptionBudget says why it has none.
   */
  @Test
  void onAnApiServerWithoutPolicyV1AGatewayWithReplicasSaysItHasNoDisruptionBudget() {
    String ns = "pdb-" + RUN;
    namespace(ns);
    client.resource(raw(ns, "pair", Map.of("replicas", 2, "storage", Map.of("accessModes", List.of("ReadWriteMany"))))).create();
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> assertThat(client.resources(SftpGateway.class).inNamespace(ns).withName("pair").get()
        .getStatus().conditions).anySatisfy(c -> {
          assertThat(c.getType()).isEqualTo("Ready");
          assertThat(c.getReason()).isEqualTo("DisruptionBudgetUnsupported");
          assertThat(c.getMessage()).contains("policy/v1");
        }));
    assertThat(client.apps().deployments().inNamespace(ns).withName("pair").get().getSpec().getReplicas()).isEqualTo(2);
  }

  /** A password Secret made before the SftpUser that names it (cached as a stub until then). */
  @Test
  void aPasswordSecretMadeBeforeItsUserIsRenderedAndRotated() {
    String ns = "early-" + RUN;
    namespace(ns);
    client.resource(raw(ns, "files", Map.of())).create();
    client.secrets().inNamespace(ns).resource(new io.fabric8.kubernetes.api.model.SecretBuilder().withNewMetadata().withName("pw").endMetadata()
        .withStringData(Map.of("password", "before the user")).build()).create();
    await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> true);
    client.resource(dev.sftp.operator.reconciler.UserFixtures.passwordUser(ns, "carol", "files", "pw")).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> hashOf(ns, "carol") != null
        && dev.sftp.contract.PasswordHashes.verify(hashOf(ns, "carol"), "before the user"));
    client.secrets().inNamespace(ns).withName("pw").edit(s -> {
      s.setData(null);
      s.setStringData(Map.of("password", "after a rotation"));
      return s;
    });
    await().atMost(Duration.ofSeconds(60)).until(() -> dev.sftp.contract.PasswordHashes.verify(hashOf(ns, "carol"), "after a rotation"));
  }

  static String hashOf(String ns, String login) {
    for (var s : client.secrets().inNamespace(ns).list().getItems()) {
      if (s.getMetadata().getName().startsWith("files-users-") && s.getData() != null) {
        var users = dev.sftp.contract.ConfigDirectory.users(dev.sftp.operator.render.SecretData.files(s)).valid();
        for (var u : users) {
          if (u.name().equals(login)) {
            return u.passwordHash();
          }
        }
      }
    }
    return null;
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
        // Rendered, but no pod of the gateway exists here (no kubelet): not Ready, and says why.
        assertThat(table("/apis/sftp.dev/v1alpha1/namespaces/" + ns + "/sftpusers")).contains("Gateway=files").contains("Ready=False").contains("Reason=GatewayUnavailable"));
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

  /**
   * The gateway as its pod runs it: with a token of its own ServiceAccount (made by the API
   * server's TokenRequest) and the Role the operator rendered, it follows its user Secrets
   * through the API, so users added and deleted through SftpUsers reach it within seconds while
   * the mounted files never change. The same token cannot read anything else.
   */
  @Test
  void theGatewayFollowsItsUsersThroughTheApiWithItsOwnServiceAccount() throws Exception {
    String ns = "watch-" + RUN;
    namespace(ns);
    Path tmp = Files.createTempDirectory("sftp-realapi-watch");
    Path aliceKey = keygen(tmp, "alice");
    Path bobKey = keygen(tmp, "bob");
    client.resource(raw(ns, "files", Map.of())).create();
    client.resource(dev.sftp.operator.reconciler.UserFixtures.keyUser(ns, "alice", "files", Files.readString(Path.of(aliceKey + ".pub")).trim())).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> client.rbac().roleBindings().inNamespace(ns).withName("files").get() != null
        && client.apps().deployments().inNamespace(ns).withName("files").get() != null
        && shards(ns).stream().anyMatch(s -> decoded(s).contains("\"alice\"")));
    Deployment d = client.apps().deployments().inNamespace(ns).withName("files").get();
    assertThat(d.getSpec().getTemplate().getSpec().getAutomountServiceAccountToken()).isTrue();

    // The pod's volume, projected once at "pod start" and never updated in this test.
    dev.sftp.operator.e2e.SecretVolume mount = new dev.sftp.operator.e2e.SecretVolume(tmp.resolve("mount"));
    List<io.fabric8.kubernetes.api.model.Secret> mounted = new java.util.ArrayList<>(List.of(
        client.secrets().inNamespace(ns).withName("files-config").get(), client.secrets().inNamespace(ns).withName("files-host-keys").get()));
    mounted.addAll(shards(ns));
    mount.project(mounted);

    // The ServiceAccount's token, as the kubelet would mount it, in a kubeconfig for the gateway.
    Path kubeconfig = RealApi.serviceAccountKubeconfig(client, ns, "files", tmp.resolve("gateway-kubeconfig"));
    Config gwConfig = Config.fromKubeconfig(Files.readString(kubeconfig));
    try (KubernetesClient asGateway = new KubernetesClientBuilder().withConfig(gwConfig).build()) {
      assertThat(asGateway.secrets().inNamespace(ns).withName("files-users-00").get()).isNotNull();
      assertThatThrownBy(() -> asGateway.secrets().inNamespace(ns).withName("files-host-keys").get())
          .isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
      assertThatThrownBy(() -> asGateway.secrets().inNamespace(ns).list())
          .isInstanceOf(KubernetesClientException.class).hasMessageContaining("forbidden");
    }

    // Start the gateway with exactly the environment the operator rendered into the Deployment.
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      port = s.getLocalPort();
    }
    ProcessBuilder pb = new ProcessBuilder("java", "-Dgateway.config-dir=" + mount.path(), "-Dgateway.host=127.0.0.1", "-Dgateway.port=" + port,
        "-Dgateway.data-root=" + Files.createDirectories(tmp.resolve("data")), "-Dquarkus.management.port=0", "-jar", dev.sftp.operator.e2e.RenderedGatewayE2EIT.JAR.toString());
    for (var env : d.getSpec().getTemplate().getSpec().getContainers().get(0).getEnv()) {
      if (env.getValue() != null) {
        pb.environment().put(env.getName(), env.getValue());
      } else if (env.getValueFrom() != null && env.getValueFrom().getFieldRef() != null && "metadata.namespace".equals(env.getValueFrom().getFieldRef().getFieldPath())) {
        pb.environment().put(env.getName(), ns);
      } else if (env.getValueFrom() != null && env.getValueFrom().getFieldRef() != null && "metadata.name".equals(env.getValueFrom().getFieldRef().getFieldPath())) {
        pb.environment().put(env.getName(), POD);
      }
    }
    pb.environment().remove("GATEWAY_CONFIG_DIR");
    pb.environment().put("KUBECONFIG", kubeconfig.toString());
    Path log = tmp.resolve("gateway.log");
    Process gateway = pb.redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !gateway.isAlive() || Files.readString(log).contains("SFTP gateway listening"));
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(log).contains("following 16 user Secrets"));
      Path kh = Files.writeString(tmp.resolve("known_hosts"), "");
      java.util.function.BiFunction<String, Path, Integer> login = (user, key) -> {
        try {
          return dev.sftp.operator.e2e.RenderedGatewayE2EIT.sftpAs(port, kh, user, key, "pwd\n").exit();
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      };
      Files.writeString(kh, knownHosts(ns, port));
      assertThat(login.apply("alice", aliceKey)).isZero();
      // The pod object (this test plays the kubelet): once it is ready, alice is Ready, from
      // what the gateway reported with its own token.
      podOf(ns, d, true);
      await().atMost(Duration.ofSeconds(30)).until(() -> "True".equals(userReady(ns, "alice").getStatus()));
      assertThat(userReady(ns, "alice").getReason()).isEqualTo("Served");

      // Users applied together: each is tried once, at the moment it becomes Ready.
      List<String> names = List.of("carol", "dave", "erin", "frank");
      Map<String, Path> keys = new LinkedHashMap<>();
      for (String n : names) {
        keys.put(n, keygen(tmp, n));
      }
      // The gateway is frozen (SIGSTOP) while they are applied, as a pod slow to load would be:
      // rendered is not enough, none is Ready until the pod serves it.
      assertThat(new ProcessBuilder("kill", "-STOP", Long.toString(gateway.pid())).start().waitFor()).isZero();
      long applied = System.nanoTime();
      try {
        for (String n : names) {
          client.resource(dev.sftp.operator.reconciler.UserFixtures.keyUser(ns, n, "files", Files.readString(Path.of(keys.get(n) + ".pub")).trim())).create();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> names.stream().allMatch(n -> shards(ns).stream().anyMatch(sh -> decoded(sh).contains("\"" + n + "\""))));
        Thread.sleep(2000);
        for (String n : names) {
          assertThat(userReady(ns, n)).as(n + " while the gateway is frozen").isNotNull()
              .satisfies(c -> assertThat(c.getStatus() + " " + c.getReason()).isEqualTo("False LoadPending"));
        }
      } finally {
        new ProcessBuilder("kill", "-CONT", Long.toString(gateway.pid())).start().waitFor();
      }
      Map<String, Long> readyAfter = new LinkedHashMap<>();
      Map<String, Integer> firstLogin = new LinkedHashMap<>();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (readyAfter.size() < names.size() && System.nanoTime() < deadline) {
        for (String n : names) {
          io.fabric8.kubernetes.api.model.Condition c = readyAfter.containsKey(n) ? null : userReady(ns, n);
          if (c != null && "True".equals(c.getStatus())) {
            readyAfter.put(n, (System.nanoTime() - applied) / 1_000_000);
            firstLogin.put(n, login.apply(n, keys.get(n)));
          }
        }
        Thread.sleep(20);
      }
      System.out.println("real API server: users applied together became Ready after " + readyAfter + " ms; first login exit codes " + firstLogin);
      assertThat(readyAfter).containsOnlyKeys(names);
      assertThat(firstLogin).allSatisfy((n, exit) -> assertThat(exit).as("first login of " + n + " at the moment it was Ready").isZero());

      // A new SftpUser: from apply to a working login, through operator, API server and watch.
      long t0 = System.nanoTime();
      client.resource(dev.sftp.operator.reconciler.UserFixtures.keyUser(ns, "bob", "files", Files.readString(Path.of(bobKey + ".pub")).trim())).create();
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> login.apply("bob", bobKey) == 0);
      long added = (System.nanoTime() - t0) / 1_000_000;

      // alice deleted: refused within seconds, her files kept.
      assertThat(dev.sftp.operator.e2e.RenderedGatewayE2EIT.sftpAs(port, kh, "alice", aliceKey, "mkdir kept\n").exit()).isZero();
      t0 = System.nanoTime();
      client.resources(SftpUser.class).inNamespace(ns).withName("alice").delete();
      await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> login.apply("alice", aliceKey) != 0);
      long removed = (System.nanoTime() - t0) / 1_000_000;
      assertThat(tmp.resolve("data").resolve(ns).resolve("alice").resolve("kept")).isDirectory();
      assertThat(login.apply("bob", bobKey)).isZero();
      System.out.println("real API server, gateway watching with its own token: SftpUser created → login after " + added
          + " ms; SftpUser deleted → refused after " + removed + " ms (the mounted files never changed)");
    } finally {
      gateway.destroy();
      gateway.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
      if (gateway.isAlive() || !Files.readString(log).contains("following 16")) {
        System.out.println(Files.readString(log));
      }
    }
    // A clean shutdown takes the pod's report away (with the gateway's own token).
    assertThat(client.configMaps().inNamespace(ns).withName("files-serving").get().getData()).doesNotContainKey(POD);
  }

  /**
   * The tenancy of homes on a real API server (its CRD schema included): a tenant's home is
   * taken inside its namespace's area whatever it writes, a home from the volume's root is
   * refused with a reason, and only the gateway's grant gives one to its own namespace.
   */
  @Test
  void homesStayInsideTheirNamespacesAreaUnlessTheGatewayGrantsMore() {
    String ns = "homes-" + RUN;
    String tenant = "tenant-" + RUN;
    namespace(ns);
    namespace(tenant);
    client.resource(raw(ns, "files", Map.of("users", Map.of("allowedNamespaces", List.of(tenant))))).create();
    String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS t";
    java.util.function.BiConsumer<String[], String> user = (nsName, home) -> {
      SftpUser u = dev.sftp.operator.reconciler.UserFixtures.keyUser(nsName[0], nsName[1], "files", key);
      u.getSpec().gateway.namespace = ns;
      u.getSpec().home = home;
      client.resource(u).create();
    };
    user.accept(new String[] {tenant, "mallory"}, "/");
    user.accept(new String[] {tenant, "eve"}, "../" + ns);
    user.accept(new String[] {tenant, "tess"}, ns + "/admin");
    user.accept(new String[] {ns, "admin"}, "/");
    java.util.function.BiFunction<String, String, String> reason = (n, name) -> {
      io.fabric8.kubernetes.api.model.Condition c = userReady(n, name);
      return c == null ? null : c.getReason();
    };
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(reason.apply(tenant, "mallory")).isEqualTo("HomeNotAllowed");
      assertThat(reason.apply(tenant, "eve")).isEqualTo("InvalidHome");
      assertThat(reason.apply(ns, "admin")).isEqualTo("HomeNotAllowed");
      assertThat(shards(ns).stream().map(RealApiServerIT::decoded).filter(d -> d.contains("\"tess\"")).findFirst().orElse(""))
          .contains("\"home\" : \"" + tenant + "/" + ns + "/admin\"");
    });
    assertThat(shards(ns).stream().map(RealApiServerIT::decoded).noneMatch(d -> d.contains("\"mallory\"") || d.contains("\"admin\""))).isTrue();
    client.resources(SftpGateway.class).inNamespace(ns).withName("files").edit(g -> {
      g.getSpec().users.adminHomes = true;
      return g;
    });
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> assertThat(shards(ns).stream().map(RealApiServerIT::decoded)
        .filter(d -> d.contains("\"admin\"")).findFirst().orElse("")).contains("\"home\" : \".\""));
    assertThat(reason.apply(tenant, "mallory")).isEqualTo("HomeNotAllowed");
  }

  /** The name the gateway process reports under (its pod's name, from the downward API). */
  static final String POD = "files-7d9c-abcde";

  /** The gateway's pod as the Deployment would make it, Ready or not (there is no kubelet here). */
  static void podOf(String ns, Deployment d, boolean ready) {
    var template = d.getSpec().getTemplate();
    io.fabric8.kubernetes.api.model.Pod p = new io.fabric8.kubernetes.api.model.PodBuilder()
        .withNewMetadata().withName(POD).withNamespace(ns).withLabels(template.getMetadata().getLabels()).endMetadata()
        .withNewSpec().withAutomountServiceAccountToken(false).addNewContainer().withName("gateway").withImage("gateway:test").endContainer().endSpec()
        .build();
    io.fabric8.kubernetes.api.model.Pod made = client.pods().inNamespace(ns).withName(POD).get();
    if (made == null) {
      made = client.resource(p).create();
    }
    made.setStatus(new io.fabric8.kubernetes.api.model.PodStatusBuilder().withPhase("Running")
        .addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().build());
    client.pods().inNamespace(ns).resource(made).updateStatus();
  }

  static io.fabric8.kubernetes.api.model.Condition userReady(String ns, String name) {
    SftpUser u = client.resources(SftpUser.class).inNamespace(ns).withName(name).get();
    return u == null || u.getStatus() == null || u.getStatus().conditions == null ? null
        : u.getStatus().conditions.stream().filter(c -> c.getType().equals("Ready")).findFirst().orElse(null);
  }

  static Path keygen(Path dir, String name) throws Exception {
    Path k = dir.resolve(name);
    assertThat(new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k.toString()).start().waitFor()).isZero();
    return k;
  }

  static List<io.fabric8.kubernetes.api.model.Secret> shards(String ns) {
    return client.secrets().inNamespace(ns).list().getItems().stream().filter(s -> s.getMetadata().getName().startsWith("files-users-")).toList();
  }

  static String decoded(io.fabric8.kubernetes.api.model.Secret s) {
    StringBuilder sb = new StringBuilder();
    if (s.getData() != null) {
      s.getData().values().forEach(v -> sb.append(new String(java.util.Base64.getDecoder().decode(v), java.nio.charset.StandardCharsets.UTF_8)));
    }
    return sb.toString();
  }

  static String knownHosts(String ns, int port) {
    SftpGateway gw = await().atMost(Duration.ofSeconds(30)).until(() -> client.resources(SftpGateway.class).inNamespace(ns).withName("files").get(),
        g -> g.getStatus() != null && g.getStatus().knownHosts != null);
    return gw.getStatus().knownHosts.replace(gw.getStatus().endpoint.replace(":22", ""), "[127.0.0.1]:" + port);
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
