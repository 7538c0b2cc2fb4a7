package dev.sftp.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.reconciler.UserFixtures;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Users added, re-keyed, disabled and deleted through SftpUsers reach a running gateway without a
 * restart, seen by a real client, while another user's upload runs to the end intact. The
 * Secret volume is updated the way the kubelet does it: a new timestamped directory and an
 * atomic swap of the {@code ..data} link.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class LiveUserChangesE2EIT {
  @Inject KubernetesClient client;
  @TempDir Path tmp;

  Path keygen(String name) throws Exception {
    Path k = tmp.resolve(name);
    assertThat(new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", k.toString()).start().waitFor()).isZero();
    return k;
  }

  String pub(Path key) throws Exception {
    return Files.readString(Path.of(key + ".pub")).trim();
  }

  GatewayConfig rendered(String ns) throws Exception {
    Secret s = client.secrets().inNamespace(ns).withName("live-config").get();
    if (s == null) {
      return null;
    }
    GatewayConfig main = ContractJson.mapper().readValue(Base64.getDecoder().decode(s.getData().get("gateway.json")), GatewayConfig.class);
    List<dev.sftp.contract.UserEntry> users = new java.util.ArrayList<>();
    for (Secret shard : shards(ns)) {
      for (String v : shard.getData().values()) {
        users.addAll(ContractJson.mapper().readValue(Base64.getDecoder().decode(v), dev.sftp.contract.UserList.class).users());
      }
    }
    return GatewayConfig.of(main.server(), users);
  }

  List<Secret> shards(String ns) {
    return client.secrets().inNamespace(ns).list().getItems().stream().filter(x -> x.getMetadata().getName().startsWith("live-users-")).toList();
  }

  /** Waits until the operator rendered what {@code ready} expects, then projects it like the kubelet. */
  void renderAndProject(String ns, SecretVolume mount, Predicate<GatewayConfig> ready) throws Exception {
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      GatewayConfig c = rendered(ns);
      return c != null && ready.test(c);
    });
    List<Secret> all = new java.util.ArrayList<>(List.of(client.secrets().inNamespace(ns).withName("live-config").get(), client.secrets().inNamespace(ns).withName("live-host-keys").get()));
    all.addAll(shards(ns));
    mount.project(all);
  }

  static boolean has(GatewayConfig c, String user) {
    return c.users() != null && c.users().stream().anyMatch(u -> u.name().equals(user));
  }

  static int login(int port, Path knownHosts, String user, Path key) throws Exception {
    return RenderedGatewayE2EIT.sftpAs(port, knownHosts, user, key, "pwd\n").exit();
  }

  /** Polls a real login until it gives the expected result; returns the milliseconds it took. */
  static long until(int port, Path knownHosts, String user, Path key, boolean works) {
    long t0 = System.nanoTime();
    await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(250))
        .until(() -> (login(port, knownHosts, user, key) == 0) == works);
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static String sha256(Path p) throws Exception {
    MessageDigest md = MessageDigest.getInstance("SHA-256");
    try (InputStream in = Files.newInputStream(p)) {
      md.update(in.readAllBytes());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  @Test
  void userChangesReachTheRunningGatewayWithinSecondsWhileAnotherTransferCompletes() throws Exception {
    String ns = "live";
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName("live").withNamespace(ns).build());
    gw.setSpec(new SftpGatewaySpec());
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    Path steadyKey = keygen("steady");
    Path k1 = keygen("newbie1");
    Path k2 = keygen("newbie2");
    client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "steady", "live", pub(steadyKey))).create();
    SecretVolume mount = new SecretVolume(tmp.resolve("mount"));
    renderAndProject(ns, mount, c -> has(c, "steady"));
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      SftpGateway g = client.resources(SftpGateway.class).inNamespace(ns).withName("live").get();
      return g.getStatus() != null && g.getStatus().knownHosts != null;
    });
    SftpGateway seen = client.resources(SftpGateway.class).inNamespace(ns).withName("live").get();

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = tmp.resolve("gateway.log");
    Process gateway = new ProcessBuilder("java", "-Dgateway.config-dir=" + mount.path(), "-Dgateway.host=127.0.0.1", "-Dgateway.port=" + port,
        "-Dgateway.data-root=" + Files.createDirectories(tmp.resolve("data")), "-Dquarkus.management.port=0", "-jar", RenderedGatewayE2EIT.JAR.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    Process upload = null;
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !gateway.isAlive() || Files.readString(log).contains("SFTP gateway listening"));
      Path kh = Files.writeString(tmp.resolve("known_hosts"), seen.getStatus().knownHosts.replace(seen.getStatus().endpoint.replace(":22", ""), "[127.0.0.1]:" + port));

      // A long upload by "steady", rate-limited so that it spans every change below.
      byte[] big = new byte[48 << 20];
      new Random(7).nextBytes(big);
      Path src = Files.write(tmp.resolve("big.bin"), big);
      upload = new ProcessBuilder("sftp", "-P", String.valueOf(port), "-F", "/dev/null", "-l", "16000",
          "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + kh, "-o", "BatchMode=yes", "-o", "IdentityAgent=none",
          "-o", "IdentitiesOnly=yes", "-i", steadyKey.toString(), "-b", "-", "steady@127.0.0.1")
          .redirectErrorStream(true).redirectOutput(tmp.resolve("upload.log").toFile()).start();
      upload.getOutputStream().write(("put " + src + " big.bin\n").getBytes(StandardCharsets.UTF_8));
      upload.getOutputStream().close();
      Path remote = tmp.resolve("data/live/steady/big.bin");
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(remote) && Files.size(remote) > 0);

      // Added.
      assertThat(login(port, kh, "newbie", k1)).isNotZero();
      client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "newbie", "live", pub(k1))).create();
      renderAndProject(ns, mount, c -> has(c, "newbie"));
      long added = until(port, kh, "newbie", k1, true);

      // Key rotated: the old key stops working, the new one works.
      String k2pub = pub(k2);
      // The operator writes status concurrently: retry the edit on a 409 conflict.
      await().atMost(Duration.ofSeconds(30)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class).until(() -> {
        client.resources(SftpUser.class).inNamespace(ns).withName("newbie").edit(u -> {
          u.getSpec().publicKeys = List.of(k2pub);
          u.getMetadata().setGeneration(u.getMetadata().getGeneration() == null ? 2L : u.getMetadata().getGeneration() + 1);
          return u;
        });
        return true;
      });
      String k2line = pub(k2);
      renderAndProject(ns, mount, c -> c.users().stream().anyMatch(x -> x.name().equals("newbie") && x.authorizedKeys().contains(k2line)));
      long rotated = until(port, kh, "newbie", k2, true);
      assertThat(login(port, kh, "newbie", k1)).isNotZero();

      // Disabled.
      // The operator writes status concurrently: retry the edit on a 409 conflict.
      await().atMost(Duration.ofSeconds(30)).ignoreException(io.fabric8.kubernetes.client.KubernetesClientException.class).until(() -> {
        client.resources(SftpUser.class).inNamespace(ns).withName("newbie").edit(u -> {
          u.getSpec().disabled = true;
          u.getMetadata().setGeneration(u.getMetadata().getGeneration() == null ? 2L : u.getMetadata().getGeneration() + 1);
          return u;
        });
        return true;
      });
      renderAndProject(ns, mount, c -> c.users().stream().anyMatch(x -> x.name().equals("newbie") && x.disabled()));
      long disabled = until(port, kh, "newbie", k2, false);

      // Deleted.
      client.resources(SftpUser.class).inNamespace(ns).withName("newbie").delete();
      renderAndProject(ns, mount, c -> !has(c, "newbie"));
      long deleted = until(port, kh, "newbie", k2, false);

      assertThat(upload.isAlive()).as("the upload spans the changes").isTrue();
      assertThat(upload.waitFor(120, TimeUnit.SECONDS)).isTrue();
      assertThat(upload.exitValue()).as(Files.readString(tmp.resolve("upload.log"))).isZero();
      assertThat(sha256(remote)).isEqualTo(sha256(src));
      // One process, started once: no restart carried any of the changes.
      assertThat(gateway.isAlive()).isTrue();
      assertThat(Files.readString(log).split("SFTP gateway listening", -1)).hasSize(2);
      System.out.printf("live changes seen by sftp after projection: added %d ms, rotated %d ms, disabled %d ms, deleted %d ms%n", added, rotated, disabled, deleted);
    } finally {
      if (upload != null) {
        upload.destroyForcibly();
      }
      gateway.destroy();
      gateway.waitFor(20, TimeUnit.SECONDS);
    }
  }
}
