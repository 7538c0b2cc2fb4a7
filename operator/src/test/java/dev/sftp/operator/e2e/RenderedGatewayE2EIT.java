package dev.sftp.operator.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.kubernetes.client.WithKubernetesTestServer;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end: the Secrets the operator rendered, laid out as a pod sees them, serve a real
 * gateway process, which a real OpenSSH client trusts through the status's known_hosts only.
 */
@QuarkusTest
@WithKubernetesTestServer(crud = true)
public class RenderedGatewayE2EIT {
  public static final Path JAR = Path.of("../gateway/target/quarkus-app/quarkus-run.jar").toAbsolutePath();

  @Inject KubernetesClient client;
  @TempDir Path tmp;

  @Test
  void theGatewayServesWhatTheOperatorRenderedWithTheHostKeysTheStatusReports() throws Exception {
    assertThat(JAR).as("the gateway module is built before the operator's tests run").exists();
    String ns = "e2e";
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName("files").withNamespace(ns).build());
    gw.setSpec(new SftpGatewaySpec());
    gw.getSpec().server = new SftpGatewaySpec.ServerSpec();
    gw.getSpec().server.banner = "rendered by the operator";
    client.resources(SftpGateway.class).inNamespace(ns).resource(gw).create();
    Path clientKey = tmp.resolve("id_ed25519");
    Process keygen = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", clientKey.toString()).start();
    assertThat(keygen.waitFor()).isZero();
    Path upload = Files.writeString(tmp.resolve("hello.txt"), "hello from the e2e test");
    client.resources(dev.sftp.operator.model.SftpUser.class).inNamespace(ns)
        .resource(dev.sftp.operator.reconciler.UserFixtures.keyUser(ns, "alice", "files", Files.readString(Path.of(clientKey + ".pub")).trim())).create();
    await().atMost(Duration.ofSeconds(60)).until(() -> {
      SftpGateway g = client.resources(SftpGateway.class).inNamespace(ns).withName("files").get();
      return g.getStatus() != null && g.getStatus().knownHosts != null && Integer.valueOf(1).equals(g.getStatus().users)
          && client.secrets().inNamespace(ns).withName("files-config").get() != null;
    });
    SftpGateway seen = client.resources(SftpGateway.class).inNamespace(ns).withName("files").get();
    Secret config = client.secrets().inNamespace(ns).withName("files-config").get();
    Secret keys = client.secrets().inNamespace(ns).withName("files-host-keys").get();
    List<Secret> mounted = new ArrayList<>(List.of(config, keys));
    client.secrets().inNamespace(ns).list().getItems().stream().filter(x -> x.getMetadata().getName().startsWith("files-users-")).forEach(mounted::add);
    assertThat(mounted).hasSize(2 + dev.sftp.operator.render.Names.USER_SHARDS);
    SecretVolume volume = new SecretVolume(tmp.resolve("etc-sftp-gateway"));
    volume.project(mounted);
    Path mount = volume.path();

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = tmp.resolve("gateway.log");
    Process gateway = new ProcessBuilder("java", "-Dgateway.config-dir=" + mount, "-Dgateway.host=127.0.0.1",
        "-Dgateway.port=" + port, "-Dgateway.data-root=" + Files.createDirectories(tmp.resolve("data")),
        "-Dquarkus.management.port=0", "-jar", JAR.toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !gateway.isAlive() || Files.readString(log).contains("SFTP gateway listening"));
      String out = Files.readString(log);
      assertThat(gateway.isAlive()).as(out).isTrue();
      // The gateway logs the same fingerprints that the status reports.
      for (var k : seen.getStatus().hostKeys) {
        assertThat(out).contains(k.fingerprint);
      }

      // known_hosts made from nothing but the status, for the address the test reaches.
      String kh = seen.getStatus().knownHosts.replace(seen.getStatus().endpoint.replace(":22", ""), "[127.0.0.1]:" + port);
      Path knownHosts = Files.writeString(tmp.resolve("known_hosts"), kh);
      Proc trusted = sftp(port, knownHosts);
      assertThat(trusted.err).doesNotContain("Host key verification failed").contains("rendered by the operator");
      // "nobody" is not a user, so authentication is what stops the client: the host key passed.
      assertThat(trusted.err).contains("Permission denied");

      // The SftpUser's key logs in, with nothing trusted but the status's known_hosts.
      Proc login = sftpAs(port, knownHosts, "alice", clientKey, "put " + upload + " hello.txt\nls -l\n");
      assertThat(login.exit).as(login.err).isZero();
      assertThat(tmp.resolve("data/e2e/alice/hello.txt")).hasContent("hello from the e2e test");

      // A known_hosts with another key for the same address is refused: the check is real.
      String other = "[127.0.0.1]:" + port + " ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS\n";
      Proc wrong = sftp(port, Files.writeString(tmp.resolve("wrong_known_hosts"), other));
      assertThat(wrong.exit).isNotZero();
      assertThat(wrong.err).contains("Host key verification failed");
    } finally {
      gateway.destroy();
      gateway.waitFor(20, TimeUnit.SECONDS);
    }
  }

  public record Proc(int exit, String err) {}

  public static Proc sftpAs(int port, Path knownHosts, String user, Path key, String commands) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("sftp", "-P", String.valueOf(port), "-F", "/dev/null",
        "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes", "-o", "IdentityAgent=none", "-o", "IdentitiesOnly=yes", "-i", key.toString(), "-b", "-", user + "@127.0.0.1"));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().write(commands.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    return new Proc(p.exitValue(), out);
  }

  static Proc sftp(int port, Path knownHosts) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("sftp", "-P", String.valueOf(port), "-F", "/dev/null",
        "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + knownHosts, "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "BatchMode=yes", "-o", "IdentityAgent=none", "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
        "-o", "PubkeyAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-b", "-", "nobody@127.0.0.1"));
    Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    p.getOutputStream().close();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Thread t = new Thread(() -> {
      try {
        p.getErrorStream().transferTo(err);
      } catch (IOException ignored) {
        // ended
      }
    });
    t.start();
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
    }
    t.join(5000);
    return new Proc(p.exitValue(), err.toString(StandardCharsets.UTF_8));
  }
}
