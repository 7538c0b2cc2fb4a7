package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.UserList;
import dev.sftp.gateway.users.SecretWatch;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Keys;
import dev.sftp.gateway.support.TestGateway;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway following its user Secrets through the Kubernetes API (the Fabric8 mock server in
 * CRUD mode): changes reach real clients without any file on disk changing and without the
 * periodic reload (off in these tests), and a removed user's session ends while another stays.
 */
@EnableKubernetesMockClient(crud = true, https = false)
class SecretWatchIT {
  static KubernetesClient client;
  @TempDir Path tmp;

  static Secret shard(String name, String file, UserEntry... users) {
    return new SecretBuilder().withNewMetadata().withName(name).withNamespace("sftp").endMetadata()
        .withData(Map.of(file, Base64.getEncoder().encodeToString(ContractJson.write(UserList.of(List.of(users))).getBytes(StandardCharsets.UTF_8)),
            "unrelated.txt", Base64.getEncoder().encodeToString("not a user list".getBytes(StandardCharsets.UTF_8))))
        .build();
  }

  static long loginWithin(TestGateway gw, Login login, Duration limit) {
    long t0 = System.nanoTime();
    await().atMost(limit).pollInterval(Duration.ofMillis(200)).until(() -> Clients.sftp(gw, login, "pwd").exit() == 0);
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @Test
  void usersFollowTheirSecretsThroughTheApi() throws Exception {
    client.resource(shard("files-users-00", "users-00.json", ConfigIT.keyUser("alice", Keys.publicLine("ed25519")))).create();
    SecretWatch.Settings watch = new SecretWatch.Settings(client, "sftp", List.of("files-users-00", "files-users-01"));
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.settings(null), watch)) {
      // The directory holds no users: alice can only come from the API.
      long first = loginWithin(gw, Login.key("alice", "ed25519"), Duration.ofSeconds(10));
      System.out.println("SecretWatchIT: first login through the API after " + first + " ms");

      try (SshClient ssh = SshClient.setUpDefaultClient()) {
        ssh.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        ssh.setKeyIdentityProvider(new FileKeyPairProvider(Keys.key("ed25519")));
        ssh.start();
        ClientSession alice = ssh.connect("alice", "127.0.0.1", gw.port()).verify(Duration.ofSeconds(30)).getSession();
        alice.auth().verify(Duration.ofSeconds(30));
        SftpClient aliceSftp = SftpClientFactory.instance().createSftpClient(alice);
        aliceSftp.mkdir("before");

        // A second Secret appears with bob: bob logs in, alice's session stays.
        client.resource(shard("files-users-01", "users-01.json", ConfigIT.keyUser("bob", Keys.publicLine("ecdsa")))).create();
        long added = loginWithin(gw, Login.key("bob", "ecdsa"), Duration.ofSeconds(10));
        // bob's key rotated in place.
        client.resource(shard("files-users-01", "users-01.json", ConfigIT.keyUser("bob", Keys.publicLine("rsa")))).update();
        long rotated = loginWithin(gw, Login.key("bob", "rsa"), Duration.ofSeconds(10));
        assertThat(Clients.sftp(gw, Login.key("bob", "ecdsa"), "pwd").exit()).isNotZero();
        aliceSftp.mkdir("during");
        assertThat(alice.isOpen()).isTrue();
        System.out.println("SecretWatchIT: user added → login " + added + " ms; key rotated → login " + rotated + " ms");

        // A Secret that is not watched changes nothing.
        client.resource(shard("files-users-02", "users-02.json", ConfigIT.keyUser("mallory", Keys.publicLine("ed25519")))).create();

        // alice's Secret goes away: her open session ends, her files stay, bob carries on.
        long t0 = System.nanoTime();
        client.secrets().inNamespace("sftp").withName("files-users-00").delete();
        await().atMost(Duration.ofSeconds(10)).until(() -> !alice.isOpen());
        System.out.println("SecretWatchIT: user removed → session closed after " + (System.nanoTime() - t0) / 1_000_000 + " ms");
        assertThat(Clients.sftp(gw, Login.key("alice", "ed25519"), "pwd").exit()).isNotZero();
        assertThat(Clients.sftp(gw, Login.key("mallory", "ed25519"), "pwd").exit()).isNotZero();
        assertThat(gw.home("alice").resolve("before")).isDirectory();
        assertThat(gw.home("alice").resolve("during")).isDirectory();
        ok(Clients.sftp(gw, Login.key("bob", "rsa"), "pwd"));
      }
    }
  }

  @Test
  void theGatewayHearsWhenTheLastWatchHasListed() throws Exception {
    // One Secret that exists and several that do not (yet): the existing one lists with an
    // event, usually before the others have listed (which they do without any event). The
    // snapshot exists only once all have listed, so that moment must be announced too.
    client.resource(shard("early-users-00", "users-00.json", ConfigIT.keyUser("dora", Keys.publicLine("ed25519")))).create();
    List<String> names = new ArrayList<>(List.of("early-users-00"));
    for (int i = 1; i <= 12; i++) {
      names.add("early-users-" + String.format("%02d", i));
    }
    CopyOnWriteArrayList<Map<String, byte[]>> seen = new CopyOnWriteArrayList<>();
    AtomicReference<SecretWatch> ref = new AtomicReference<>();
    CountDownLatch built = new CountDownLatch(1);
    try (SecretWatch watch = new SecretWatch(client, "sftp", names, () -> {
      try {
        built.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Map<String, byte[]> snap = ref.get().snapshot();
      if (snap != null) {
        seen.add(snap);
      }
    })) {
      ref.set(watch);
      built.countDown();
      await().atMost(Duration.ofSeconds(10)).until(() -> !seen.isEmpty());
      assertThat(seen.get(seen.size() - 1)).containsKey("users-00.json");
    }
  }

  @Test
  void withoutTheApiTheMountedFilesAreServed() throws Exception {
    // A gateway whose API is unreachable keeps serving the users of its volume.
    KubernetesClient nowhere = new io.fabric8.kubernetes.client.KubernetesClientBuilder()
        .withConfig(new io.fabric8.kubernetes.client.ConfigBuilder().withMasterUrl("http://127.0.0.1:1").withRequestTimeout(500).withConnectionTimeout(500).build()).build();
    try (nowhere; TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.settings(null),
        new SecretWatch.Settings(nowhere, "sftp", List.of("files-users-00")), ConfigIT.keyUser("carol", Keys.publicLine("ed25519")))) {
      ok(Clients.sftp(gw, Login.key("carol", "ed25519"), "pwd"));
      gw.reloadNow();
      ok(Clients.sftp(gw, Login.key("carol", "ed25519"), "pwd"));
    }
  }

  static String reported(String pod, String file) {
    io.fabric8.kubernetes.api.model.ConfigMap cm = client.configMaps().inNamespace("sftp").withName("rep-serving").get();
    String json = cm == null || cm.getData() == null ? null : cm.getData().get(pod);
    dev.sftp.contract.ServingReport r = dev.sftp.contract.ServingReport.parse(json);
    return r == null ? null : r.userLists().get(file);
  }

  static dev.sftp.contract.ServingReport.HomeUsage usageReported(String pod, String user) {
    io.fabric8.kubernetes.api.model.ConfigMap cm = client.configMaps().inNamespace("sftp").withName("rep-serving").get();
    dev.sftp.contract.ServingReport r = dev.sftp.contract.ServingReport.parse(cm == null || cm.getData() == null ? null : cm.getData().get(pod));
    return r == null ? null : r.usage().get(user);
  }

  static String digestOf(String secret, String file) {
    return dev.sftp.contract.ConfigDirectory.listDigest(Base64.getDecoder().decode(client.secrets().inNamespace("sftp").withName(secret).get().getData().get(file)));
  }

  /**
   * The pod tells the operator what it serves: after each load, the digest of every user list
   * under its own name in the serving ConfigMap (retrying until the ConfigMap exists), the same
   * digest the operator computes from what it rendered; on shutdown it takes its key away.
   */
  @Test
  void thePodReportsTheListsItServesAndRemovesItsReportOnShutdown() throws Exception {
    client.resource(shard("rep-users-00", "users-00.json", ConfigIT.keyUser("erin", Keys.publicLine("ed25519")))).create();
    SecretWatch.Settings watch = new SecretWatch.Settings(client, "sftp", List.of("rep-users-00", "rep-users-01"));
    var report = new dev.sftp.gateway.users.ServingReporter.Settings(client, "sftp", "rep-serving", "rep-pod-1");
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.settings(null), watch, report)) {
      loginWithin(gw, Login.key("erin", "ed25519"), Duration.ofSeconds(10));
      // The ConfigMap is made by the operator, possibly after the pod started: the pod retries.
      Thread.sleep(500);
      client.resource(new io.fabric8.kubernetes.api.model.ConfigMapBuilder().withNewMetadata().withName("rep-serving").withNamespace("sftp").endMetadata()
          .withData(Map.of("other-pod", "{}")).build()).create();
      await().atMost(Duration.ofSeconds(20)).until(() -> digestOf("rep-users-00", "users-00.json").equals(reported("rep-pod-1", "users-00.json")));

      client.resource(shard("rep-users-01", "users-01.json", ConfigIT.keyUser("finn", Keys.publicLine("ecdsa")))).create();
      await().atMost(Duration.ofSeconds(10)).until(() -> digestOf("rep-users-01", "users-01.json").equals(reported("rep-pod-1", "users-01.json")));
      // Reported only once loaded: finn logs in.
      ok(Clients.sftp(gw, Login.key("finn", "ecdsa"), "pwd"));
      assertThat(client.configMaps().inNamespace("sftp").withName("rep-serving").get().getData()).containsEntry("other-pod", "{}");

      // Given a quota, erin's usage follows in the reports once her home is counted (at her
      // first write): what the operator shows in her status.
      client.resource(shard("rep-users-00", "users-00.json", ConfigIT.keyUser("erin", Keys.publicLine("ed25519"))
          .withLimits(new dev.sftp.contract.UserLimits(10_000_000L, null, null, null)))).update();
      await().atMost(Duration.ofSeconds(10)).until(() -> digestOf("rep-users-00", "users-00.json").equals(reported("rep-pod-1", "users-00.json")));
      Path src = Files.write(tmp.resolve("u.bin"), new byte[123_456]);
      ok(Clients.sftp(gw, Login.key("erin", "ed25519"), "put " + src + " u.bin", "mkdir d", "put " + src + " d/v.bin"));
      await().atMost(Duration.ofSeconds(20)).until(() -> new dev.sftp.contract.ServingReport.HomeUsage(246_912, 2).equals(usageReported("rep-pod-1", "erin")));
      ok(Clients.sftp(gw, Login.key("erin", "ed25519"), "rm d/v.bin"));
      await().atMost(Duration.ofSeconds(20)).until(() -> new dev.sftp.contract.ServingReport.HomeUsage(123_456, 1).equals(usageReported("rep-pod-1", "erin")));
      assertThat(usageReported("rep-pod-1", "finn")).as("no quota, no count").isNull();
    }
    assertThat(client.configMaps().inNamespace("sftp").withName("rep-serving").get().getData()).doesNotContainKey("rep-pod-1").containsKey("other-pod");
  }
}
