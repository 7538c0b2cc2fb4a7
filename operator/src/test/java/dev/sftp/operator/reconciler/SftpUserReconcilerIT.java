package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each reason an SftpUser is not Ready, and its recovery, against the mock API server. */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class SftpUserReconcilerIT {
  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS test";
  static final String KEY_FP = "SHA256:+gul91NyGTpC+wqfZsGc5/v8z9VroQpqV8LyXoURm4A";

  @Inject KubernetesClient client;
  @io.quarkus.test.kubernetes.client.KubernetesTestServer io.quarkus.test.kubernetes.client.KubernetesServer server;

  SftpGateway gateway(String ns, String name) {
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    gw.setSpec(new SftpGatewaySpec());
    return client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
  }

  Condition ready(String ns, String name) {
    return condition(ns, name, "Ready");
  }

  Condition condition(String ns, String name, String type) {
    SftpUser u = client.resources(SftpUser.class).inNamespace(ns).withName(name).get();
    return u == null || u.getStatus() == null ? null
        : u.getStatus().conditions.stream().filter(c -> c.getType().equals(type)).findFirst().orElse(null);
  }

  /**
   * Waits for a user's reason: "Attached" is Accepted=True (rendered; Ready=False while no pod of
   * the gateway exists, as in these tests), any other the reason of Ready=False (and of Accepted
   * unless the user is rendered but refused: Disabled, Expired).
   */
  void awaitReason(String ns, String name, String reason) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Condition c = ready(ns, name);
      Condition a = condition(ns, name, "Accepted");
      assertThat(c).isNotNull();
      assertThat(a).isNotNull();
      assertThat(c.getStatus()).isEqualTo("False");
      if (reason.equals("Attached")) {
        assertThat(a.getStatus()).isEqualTo("True");
        assertThat(a.getReason()).isEqualTo("Attached");
        assertThat(c.getReason()).isEqualTo("GatewayUnavailable");
      } else {
        assertThat(c.getReason()).isEqualTo(reason);
        boolean rendered = reason.equals("Disabled") || reason.equals("Expired");
        assertThat(a.getStatus()).isEqualTo(rendered ? "True" : "False");
        assertThat(a.getReason()).isEqualTo(rendered ? "Attached" : reason);
      }
    });
  }

  GatewayConfig rendered(String ns, String gw) throws Exception {
    Secret s = client.secrets().inNamespace(ns).withName(gw + "-config").get();
    if (s == null) {
      return null;
    }
    return ContractJson.mapper().readValue(new String(Base64.getDecoder().decode(s.getData().get("gateway.json")), StandardCharsets.UTF_8), GatewayConfig.class);
  }

  UserEntry renderedUser(String ns, String gw, String login) throws Exception {
    int shard = dev.sftp.operator.render.GatewayRender.shardOf(login);
    Secret s = client.secrets().inNamespace(ns).withName(gw + "-users-" + String.format("%02d", shard)).get();
    if (s == null) {
      return null;
    }
    dev.sftp.contract.UserList list = ContractJson.mapper().readValue(Base64.getDecoder().decode(s.getData().get(String.format("users-%02d.json", shard))), dev.sftp.contract.UserList.class);
    return list.users() == null ? null : list.users().stream().filter(u -> u.name().equals(login)).findFirst().orElse(null);
  }

  @Test
  void aUserWaitsForItsGatewayThenBecomesReadyWithFingerprintsAndAConnectionLine() throws Exception {
    String ns = "u-gw";
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "alice", "files", KEY)).create();
    awaitReason(ns, "alice", "GatewayNotFound");
    gateway(ns, "files");
    awaitReason(ns, "alice", "Attached");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      SftpUser u = client.resources(SftpUser.class).inNamespace(ns).withName("alice").get();
      assertThat(u.getStatus().keyFingerprints).containsExactly(KEY_FP);
      assertThat(u.getStatus().connection).isEqualTo("sftp -P 22 alice@files.u-gw.svc");
      assertThat(renderedUser(ns, "files", "alice")).isNotNull();
    });
    UserEntry e = renderedUser(ns, "files", "alice");
    assertThat(e.home()).isEqualTo("u-gw/alice");
    assertThat(e.authorizedKeys()).containsExactly(KEY);
    await().atMost(Duration.ofSeconds(30)).until(() -> Integer.valueOf(1).equals(client.resources(SftpGateway.class).inNamespace(ns).withName("files").get().getStatus().users));
  }

  /**
   * A Secret that exists before any SftpUser names it is cached as a stub (the operator keeps
   * only referenced Secrets whole): the user that names it later is still rendered with its
   * password, and a rotation after that is followed.
   */
  @Test
  void aPasswordSecretThatExistedBeforeItsUserIsReadAndFollowed() throws Exception {
    String ns = "u-early";
    gateway(ns, "files");
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("early-pw").endMetadata()
        .withData(Map.of("password", Base64.getEncoder().encodeToString("was here first".getBytes()))).build()).create();
    // Another Secret of the namespace changes meanwhile: nobody references it, nothing is rendered.
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("unrelated").endMetadata()
        .withData(Map.of("x", "eA==")).build()).create();
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.passwordUser(ns, "early", "files", "early-pw")).create();
    awaitReason(ns, "early", "Attached");
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "early") != null);
    assertThat(PasswordHashes.verify(renderedUser(ns, "files", "early").passwordHash(), "was here first")).isTrue();
    Secret s = client.secrets().inNamespace(ns).withName("early-pw").get();
    s.setData(Map.of("password", Base64.getEncoder().encodeToString("rotated later".getBytes())));
    client.secrets().inNamespace(ns).resource(s).update();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      UserEntry e = renderedUser(ns, "files", "early");
      return e != null && PasswordHashes.verify(e.passwordHash(), "rotated later");
    });
  }

  /**
   * Many Secrets made before the users that name them (a bulk apply, or an operator restart): every
   * user is rendered with its own password. (Whether a pass meets enough stubs to list the
   * namespace depends on how the users' events fall into passes; StubListTest checks the list.)
   */
  @Test
  void manySecretsMadeBeforeTheirUsersAreAllRendered() throws Exception {
    String ns = "u-bulk";
    gateway(ns, "files");
    int n = 24;
    List<String> hashes = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      String hash = PasswordHashes.hashBcrypt("bulk-" + i, 4);
      hashes.add(hash);
      client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("bulk-" + i).endMetadata()
          .withData(Map.of("password", Base64.getEncoder().encodeToString(hash.getBytes()))).build()).create();
    }
    for (int i = 0; i < n; i++) {
      client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.passwordUser(ns, "bulk-" + i, "files", "bulk-" + i)).create();
    }
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      for (int i = 0; i < n; i++) {
        UserEntry e = renderedUser(ns, "files", "bulk-" + i);
        if (e == null || !hashes.get(i).equals(e.passwordHash())) {
          return false;
        }
      }
      return true;
    });
  }

  @Test
  void aMissingPasswordSecretIsReportedAndAPlainPasswordIsHashedOnceAndRotates() throws Exception {
    String ns = "u-pw";
    gateway(ns, "files");
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.passwordUser(ns, "bob", "files", "bob-pw")).create();
    awaitReason(ns, "bob", "SecretNotFound");
    assertThat(ready(ns, "bob").getMessage()).contains("bob-pw");
    client.secrets().inNamespace(ns).resource(new SecretBuilder().withNewMetadata().withName("bob-pw").endMetadata()
        .withData(Map.of("password", Base64.getEncoder().encodeToString("first secret".getBytes()))).build()).create();
    awaitReason(ns, "bob", "Attached");
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "bob") != null);
    String hash = renderedUser(ns, "files", "bob").passwordHash();
    assertThat(hash).startsWith("$argon2id$");
    assertThat(PasswordHashes.verify(hash, "first secret")).isTrue();
    for (Secret rendered : client.secrets().inNamespace(ns).list().getItems()) {
      if (rendered.getMetadata().getName().startsWith("files-")) {
        rendered.getData().values().forEach(v -> assertThat(new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)).doesNotContain("first secret"));
      }
    }

    // Rotating the password in the Secret takes effect without touching the SftpUser.
    Secret s = client.secrets().inNamespace(ns).withName("bob-pw").get();
    s.setData(Map.of("password", Base64.getEncoder().encodeToString("second secret".getBytes())));
    client.secrets().inNamespace(ns).resource(s).update();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      UserEntry e = renderedUser(ns, "files", "bob");
      return e != null && PasswordHashes.verify(e.passwordHash(), "second secret");
    });
    String rotated = renderedUser(ns, "files", "bob").passwordHash();
    // Unchanged since: the same hash is kept (no churn).
    editGateway(ns, "files", gw -> {
      gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
      gw.getSpec().server.banner = "poke";
      gw.getMetadata().setGeneration(gw.getMetadata().getGeneration() + 1);
      return gw;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> "poke".equals(rendered(ns, "files").server().banner()));
    assertThat(renderedUser(ns, "files", "bob").passwordHash()).isEqualTo(rotated);
  }

  @Test
  void invalidKeysConflictsNamespacesDisabledAndExpiredUsersGetTheirReasons() throws Exception {
    String ns = "u-misc";
    gateway(ns, "files");
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "dsa", "files", "ssh-dss AAAAB3NzaC1kc3MAAACBAP")).create();
    awaitReason(ns, "dsa", "InvalidPublicKey");
    assertThat(ready(ns, "dsa").getMessage()).contains("DSA");

    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "first", "files", KEY)).create();
    awaitReason(ns, "first", "Attached");
    SftpUser second = UserFixtures.keyUser(ns, "second", "files", KEY);
    second.getSpec().username = "first";
    client.resources(SftpUser.class).inNamespace(ns).resource(second).create();
    awaitReason(ns, "second", "UsernameConflict");
    assertThat(ready(ns, "second").getMessage()).contains(ns + "/first");
    awaitReason(ns, "first", "Attached");
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      SftpGateway g = client.resources(SftpGateway.class).inNamespace(ns).withName("files").get();
      return g.getStatus() != null && Integer.valueOf(2).equals(g.getStatus().rejectedUsers); // dsa and second
    });
    // The older one goes away: the younger takes the login by itself, nothing else touched.
    client.resources(SftpUser.class).inNamespace(ns).withName("first").delete();
    awaitReason(ns, "second", "Attached");
    // Creation times have one-second resolution and a tie goes to the first name ("first"):
    // re-create it in a later second, so that it is younger by the clock.
    String secondCreated = client.resources(SftpUser.class).inNamespace(ns).withName("second").get().getMetadata().getCreationTimestamp();
    await().atMost(Duration.ofSeconds(5)).until(() -> java.time.Instant.now().isAfter(java.time.Instant.parse(secondCreated).plusSeconds(1)));
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "first", "files", KEY)).create();
    awaitReason(ns, "first", "UsernameConflict");
    assertThat(ready(ns, "first").getMessage()).contains(ns + "/second");
    client.resources(SftpUser.class).inNamespace(ns).withName("first").delete();

    SftpUser off = UserFixtures.keyUser(ns, "off", "files", KEY);
    off.getSpec().disabled = true;
    client.resources(SftpUser.class).inNamespace(ns).resource(off).create();
    awaitReason(ns, "off", "Disabled");
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "off") != null && renderedUser(ns, "files", "off").disabled());

    SftpUser old = UserFixtures.keyUser(ns, "old", "files", KEY);
    old.getSpec().expiresAt = "2020-01-01T00:00:00Z";
    client.resources(SftpUser.class).inNamespace(ns).resource(old).create();
    awaitReason(ns, "old", "Expired");

    // Another namespace: refused until the gateway admits it.
    SftpUser guest = UserFixtures.keyUser("u-other", "guest", "files", KEY);
    guest.getSpec().gateway.namespace = ns;
    client.resources(SftpUser.class).inNamespace("u-other").resource(guest).create();
    awaitReason("u-other", "guest", "NamespaceNotAllowed");
    editGateway(ns, "files", gw -> {
      gw.getSpec().users = new SftpGatewaySpec.UserPolicySpec();
      gw.getSpec().users.allowedNamespaces = List.of("u-other");
      gw.getMetadata().setGeneration(gw.getMetadata().getGeneration() + 1);
      return gw;
    });
    awaitReason("u-other", "guest", "Attached");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(renderedUser(ns, "files", "guest")).isNotNull());
    assertThat(renderedUser(ns, "files", "guest").home()).isEqualTo("u-other/guest");
    assertThat(renderedUser(ns, "files", "dsa")).isNull();
  }

  @Test
  void aGeneratedPasswordLandsInASecretOfTheUsersNamespace() throws Exception {
    String ns = "u-gen";
    gateway(ns, "files");
    SftpUser u = UserFixtures.user(ns, "carol", "files");
    u.getSpec().password = new dev.sftp.operator.model.SftpUserSpec.PasswordSpec();
    u.getSpec().password.generate = true;
    client.resources(SftpUser.class).inNamespace(ns).resource(u).create();
    awaitReason(ns, "carol", "Attached");
    Secret s = client.secrets().inNamespace(ns).withName("carol-password").get();
    String pw = s.getData() != null && s.getData().containsKey("password")
        ? new String(Base64.getDecoder().decode(s.getData().get("password"))) : s.getStringData().get("password");
    assertThat(pw).hasSize(24);
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "carol") != null);
    assertThat(PasswordHashes.verify(renderedUser(ns, "files", "carol").passwordHash(), pw)).isTrue();
  }

  /** A gateway pod as the Deployment would make it, Ready or not (the mock server runs no kubelet). */
  void pod(String ns, String gw, String name, boolean ready) {
    io.fabric8.kubernetes.api.model.Pod p = new io.fabric8.kubernetes.api.model.PodBuilder()
        .withNewMetadata().withName(name).withNamespace(ns)
        .withLabels(Map.of("app.kubernetes.io/managed-by", "sftp-operator", "sftp.dev/gateway", gw)).endMetadata()
        .withNewSpec().addNewContainer().withName("gateway").withImage("x").endContainer().endSpec()
        .withNewStatus().addNewCondition().withType("Ready").withStatus(ready ? "True" : "False").endCondition().endStatus()
        .build();
    client.resource(p).createOr(io.fabric8.kubernetes.client.dsl.NonDeletingOperation::update);
  }

  /** What a gateway pod writes after loading its users: the digests of the lists it loaded. */
  void report(String ns, String gw, String pod, String... logins) {
    report(ns, gw, pod, Map.of(), logins);
  }

  /** The same, with the usage of homes the pod counted. */
  void report(String ns, String gw, String pod, Map<String, dev.sftp.contract.ServingReport.HomeUsage> usage, String... logins) {
    Map<String, String> lists = new java.util.TreeMap<>();
    for (String login : logins) {
      int shard = dev.sftp.operator.render.GatewayRender.shardOf(login);
      String file = String.format("users-%02d.json", shard);
      Secret s = client.secrets().inNamespace(ns).withName(gw + "-users-" + String.format("%02d", shard)).get();
      lists.put(file, dev.sftp.contract.ConfigDirectory.listDigest(Base64.getDecoder().decode(s.getData().get(file))));
    }
    String json = new dev.sftp.contract.ServingReport(lists, java.time.Instant.now().toString(), usage).toJson();
    client.configMaps().inNamespace(ns).withName(gw + "-serving").edit(cm -> {
      Map<String, String> data = new java.util.HashMap<>(cm.getData() == null ? Map.of() : cm.getData());
      data.put(pod, json);
      cm.setData(data);
      return cm;
    });
  }

  void awaitReady(String ns, String name, String status, String reason, String messagePart) {
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      Condition c = ready(ns, name);
      assertThat(c).isNotNull();
      assertThat(c.getStatus()).isEqualTo(status);
      assertThat(c.getReason()).isEqualTo(reason);
      assertThat(c.getMessage()).contains(messagePart);
    });
  }

  /**
   * Ready means the user can log in: rendered is not enough (Accepted); every ready pod of the
   * gateway must report that it serves the user list holding the user's current entry. A pod
   * that is not ready does not count; a change of the user waits for the pods again.
   */
  @Test
  void aUserIsReadyOnlyWhenEveryReadyPodServesItsCurrentEntry() throws Exception {
    String ns = "u-serve";
    gateway(ns, "files");
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "alice", "files", KEY)).create();
    awaitReason(ns, "alice", "Attached");
    awaitReady(ns, "alice", "False", "GatewayUnavailable", "no pod of gateway u-serve/files is ready");
    await().atMost(Duration.ofSeconds(30)).until(() -> client.configMaps().inNamespace(ns).withName("files-serving").get() != null
        && renderedUser(ns, "files", "alice") != null);

    pod(ns, "files", "files-a", true);
    pod(ns, "files", "files-b", false);
    awaitReady(ns, "alice", "False", "LoadPending", "0 of 1 ready pods");
    report(ns, "files", "files-a", "alice");
    awaitReady(ns, "alice", "True", "Served", "the ready pod of gateway u-serve/files serves it");

    // A second ready pod that has not loaded bob's list: bob waits for it, alice stays Ready.
    pod(ns, "files", "files-b", true);
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "bob", "files", KEY)).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "bob") != null);
    report(ns, "files", "files-a", "alice", "bob");
    awaitReady(ns, "bob", "False", "LoadPending", "1 of 2 ready pods of gateway u-serve/files serve it so far (waiting for files-b)");
    assertThat(ready(ns, "alice").getStatus()).isEqualTo("True");
    report(ns, "files", "files-b", "alice", "bob");
    awaitReady(ns, "bob", "True", "Served", "all 2 ready pods");

    // alice's entry changes (read-only): not Ready until the pods serve the new entry.
    UserEntry before = renderedUser(ns, "files", "alice");
    client.resources(SftpUser.class).inNamespace(ns).withName("alice").edit(u -> {
      u.getSpec().readOnly = true;
      return u;
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> !renderedUser(ns, "files", "alice").equals(before));
    awaitReady(ns, "alice", "False", "LoadPending", "0 of 2 ready pods");
    report(ns, "files", "files-a", "alice", "bob");
    report(ns, "files", "files-b", "alice", "bob");
    awaitReady(ns, "alice", "True", "Served", "all 2 ready pods");
  }

  /**
   * A user with a quota shows its home's usage as the pods report it: the newest report wins, a
   * report without the user keeps what the status says, and a user without a quota shows none.
   */
  @Test
  void aUsersStatusShowsTheUsageItsGatewayReports() throws Exception {
    String ns = "u-usage";
    gateway(ns, "files");
    SftpUser alice = UserFixtures.keyUser(ns, "alice", "files", KEY);
    alice.getSpec().limits = new dev.sftp.operator.model.SftpUserSpec.LimitsSpec();
    alice.getSpec().limits.storage = "1Gi";
    client.resources(SftpUser.class).inNamespace(ns).resource(alice).create();
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "bob", "files", KEY)).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.configMaps().inNamespace(ns).withName("files-serving").get() != null
        && renderedUser(ns, "files", "alice") != null && renderedUser(ns, "files", "bob") != null);
    pod(ns, "files", "files-a", true);
    report(ns, "files", "files-a", Map.of("alice", new dev.sftp.contract.ServingReport.HomeUsage(5_000, 2),
        "bob", new dev.sftp.contract.ServingReport.HomeUsage(7, 1)), "alice", "bob");
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      var st = client.resources(SftpUser.class).inNamespace(ns).withName("alice").get().getStatus();
      assertThat(st.usage).isNotNull();
      assertThat(st.usage.bytes).isEqualTo(5_000);
      assertThat(st.usage.files).isEqualTo(2);
    });
    // Changes reach a user that is Ready already; a report without alice keeps her usage.
    report(ns, "files", "files-a", Map.of("alice", new dev.sftp.contract.ServingReport.HomeUsage(9_000, 3)), "alice", "bob");
    await().atMost(Duration.ofSeconds(30)).until(() -> Long.valueOf(9_000).equals(client.resources(SftpUser.class).inNamespace(ns).withName("alice").get().getStatus().usage.bytes));
    report(ns, "files", "files-a", Map.of(), "alice", "bob");
    Thread.sleep(1000);
    assertThat(client.resources(SftpUser.class).inNamespace(ns).withName("alice").get().getStatus().usage.bytes).isEqualTo(9_000);
    // bob has no quota: nothing shown, whatever a pod reports.
    awaitReady(ns, "bob", "True", "Served", "serves it");
    assertThat(client.resources(SftpUser.class).inNamespace(ns).withName("bob").get().getStatus().usage).isNull();
  }

  /** Edits a gateway, again on a 409 conflict: the operator writes its status concurrently. */
  void editGateway(String ns, String name, java.util.function.UnaryOperator<SftpGateway> change) {
    await().atMost(Duration.ofSeconds(30)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class).until(() -> {
      client.resources(SftpGateway.class).inNamespace(ns).withName(name).edit(change);
      return true;
    });
  }

  /** A tenant's manifest cannot give it a home outside its namespace's area; the gateway's grant can, to its own namespace. */
  @Test
  void aTenantsHomeStaysInsideItsNamespaceAndOnlyTheGatewaysGrantWidensIt() throws Exception {
    String ns = "u-homes";
    SftpGateway gw = gateway(ns, "files");
    editGateway(ns, "files", g -> {
      g.getSpec().users = new SftpGatewaySpec.UserPolicySpec();
      g.getSpec().users.allowedNamespaces = List.of("u-tenant");
      return g;
    });
    SftpUser mallory = UserFixtures.keyUser("u-tenant", "mallory", "files", KEY);
    mallory.getSpec().gateway.namespace = ns;
    mallory.getSpec().home = "/";
    client.resources(SftpUser.class).inNamespace("u-tenant").resource(mallory).create();
    SftpUser eve = UserFixtures.keyUser("u-tenant", "eve", "files", KEY);
    eve.getSpec().gateway.namespace = ns;
    eve.getSpec().home = ns + "/admin";
    client.resources(SftpUser.class).inNamespace("u-tenant").resource(eve).create();
    SftpUser admin = UserFixtures.keyUser(ns, "admin", "files", KEY);
    admin.getSpec().home = "/";
    client.resources(SftpUser.class).inNamespace(ns).resource(admin).create();
    awaitReason("u-tenant", "mallory", "HomeNotAllowed");
    assertThat(ready("u-tenant", "mallory").getMessage()).contains("relative to u-tenant/");
    awaitReason(ns, "admin", "HomeNotAllowed");
    awaitReason("u-tenant", "eve", "Attached");
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "eve") != null);
    assertThat(renderedUser(ns, "files", "eve").home()).isEqualTo("u-tenant/" + ns + "/admin");
    assertThat(renderedUser(ns, "files", "mallory")).isNull();

    editGateway(ns, "files", g -> {
      g.getSpec().users.adminHomes = true;
      return g;
    });
    awaitReason(ns, "admin", "Attached");
    await().atMost(Duration.ofSeconds(30)).until(() -> renderedUser(ns, "files", "admin") != null);
    assertThat(renderedUser(ns, "files", "admin").home()).isEqualTo(".");
    awaitReason("u-tenant", "mallory", "HomeNotAllowed");
    assertThat(renderedUser(ns, "files", "mallory")).isNull();
  }
}
