package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.KubernetesServer;
import io.quarkus.test.kubernetes.client.KubernetesTestServer;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * 1,000 SftpUsers (or {@code -Dsftp.it.users=N}; bench/operator-scale runs 10,000) on one gateway
 * through the operator: all attached, figures printed (no thresholds).
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
class ManyUsersIT {
  static final int USERS = Integer.getInteger("sftp.it.users", 1000);
  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS tenant";

  @Inject KubernetesClient client;
  @KubernetesTestServer KubernetesServer server;

  @Test
  void aThousandUsersAttachToOneGateway() throws Exception {
    String ns = "many";
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName("big").withNamespace(ns).build());
    gw.setSpec(new SftpGatewaySpec());
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    await().atMost(Duration.ofSeconds(30)).until(() -> client.apps().deployments().inNamespace(ns).withName("big").get() != null);
    while (server.getKubernetesMockServer().takeRequest(10, TimeUnit.MILLISECONDS) != null) {
      // drain
    }
    long t0 = System.nanoTime();
    for (int i = 0; i < USERS; i++) {
      client.resources(SftpUser.class).inNamespace(ns).resource(UserFixtures.keyUser(ns, "tenant-" + i, "big", KEY)).create();
    }
    long created = (System.nanoTime() - t0) / 1_000_000;
    await().atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofMillis(500)).until(() -> {
      SftpGateway g = client.resources(SftpGateway.class).inNamespace(ns).withName("big").get();
      return g.getStatus() != null && Integer.valueOf(USERS).equals(g.getStatus().users);
    });
    long attached = (System.nanoTime() - t0) / 1_000_000;
    await().atMost(Duration.ofMinutes(30)).pollInterval(Duration.ofSeconds(1)).until(() ->
        client.resources(SftpUser.class).inNamespace(ns).list().getItems().stream().allMatch(u -> u.getStatus() != null
            && u.getStatus().conditions.stream().anyMatch(c -> c.getType().equals("Accepted") && c.getStatus().equals("True"))));
    long allReady = (System.nanoTime() - t0) / 1_000_000;
    int writes = 0;
    int shardWrites = 0;
    RecordedRequest r;
    while ((r = server.getKubernetesMockServer().takeRequest(10, TimeUnit.MILLISECONDS)) != null) {
      boolean write = !r.getMethod().equals("GET");
      boolean byTest = r.getMethod().equals("POST") && r.getPath().endsWith("/sftpusers");
      if (write && !byTest) {
        writes++;
        if (r.getPath().contains("/secrets/big-users-")) {
          shardWrites++;
        }
      }
    }
    System.gc();
    long heapMiB = (Runtime.getRuntime().totalMemory() - Runtime.getRuntime().freeMemory()) >> 20;
    long rssKiB = java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream().filter(l -> l.startsWith("VmRSS:"))
        .mapToLong(l -> Long.parseLong(l.replaceAll("\\D", ""))).findFirst().orElse(-1);
    long shardBytes = client.secrets().inNamespace(ns).list().getItems().stream().filter(s -> s.getMetadata().getName().startsWith("big-users-"))
        .mapToLong(s -> s.getData().values().stream().mapToLong(v -> java.util.Base64.getDecoder().decode(v).length).sum()).sum();
    System.out.printf("%d users: created by the test in %d ms; all rendered after %d ms, all Accepted after %d ms; %d operator writes (%d of them shard Secrets);"
        + " rendered user shards %d bytes; test JVM (operator + mock API server) heap in use after GC %d MiB, RSS %d MiB%n",
        USERS, created, attached, allReady, writes, shardWrites, shardBytes, heapMiB, rssKiB >> 10);
    assertThat(writes).isGreaterThanOrEqualTo(USERS); // one status per user at least
  }
}
