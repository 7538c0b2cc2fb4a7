package dev.sftp.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code render} on examples/quickstart, then the gateway serves it to a real sftp client. */
class RenderIT {
  @TempDir Path tmp;

  /** The folder as the gateway reads it: gateway.json and the user lists. */
  static dev.sftp.contract.ConfigDirectory.Loaded load(Path config) throws Exception {
    Path main = config.resolve(dev.sftp.contract.ConfigDirectory.MAIN_FILE);
    return dev.sftp.contract.ConfigDirectory.parse(main.toString(), Files.readAllBytes(main), Render.userLists(config));
  }

  @Test
  void quickstartManifestsBecomeAGatewayThatAcceptsTheirUsers() throws Exception {
    Path config = tmp.resolve("config");
    Render.Result r = Render.render(List.of(Path.of("../examples/quickstart")), config, null);
    assertThat(r.users()).allSatisfy(a -> assertThat(a.reason()).isNull());
    var loaded = load(config);
    assertThat(loaded.userErrors()).isEmpty();
    assertThat(loaded.users()).extracting(u -> u.name()).containsExactly("demo", "partner");
    String first = loaded.digest();
    for (Path f : Files.list(config).toList()) {
      assertThat(Files.readString(f)).doesNotContain("quickstart-demo-password");
      // As the pod sees them: hashes and host keys readable by the gateway's user and group only.
      assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).as(f.toString()).isEqualTo("r--r-----");
    }
    // Rendering again changes nothing: same host keys, same hashes, same bytes.
    Render.render(List.of(Path.of("../examples/quickstart")), config, null);
    assertThat(load(config).digest()).isEqualTo(first);

    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = tmp.resolve("gateway.log");
    Process gw = new ProcessBuilder("java", "-Dgateway.config-dir=" + config, "-Dgateway.data-root=" + tmp.resolve("data"),
        "-Dgateway.host=127.0.0.1", "-Dgateway.port=" + port, "-Dquarkus.management.port=0",
        "-jar", Path.of("../gateway/target/quarkus-app/quarkus-run.jar").toAbsolutePath().toString())
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      await().atMost(Duration.ofSeconds(60)).until(() -> !gw.isAlive() || Files.readString(log).contains("SFTP gateway listening"));
      assertThat(gw.isAlive()).as(Files.readString(log)).isTrue();
      Path kh = Files.writeString(tmp.resolve("known_hosts"), dev.sftp.operator.render.HostKeyMaterial.knownHosts("127.0.0.1", port, r.hostKeys()));
      Path askpass = Files.writeString(tmp.resolve("askpass.sh"), "#!/bin/sh\necho quickstart-demo-password\n");
      askpass.toFile().setExecutable(true);
      Files.writeString(tmp.resolve("up.txt"), "uploaded");
      assertThat(sftp(port, kh, askpass, "demo", "put " + tmp.resolve("up.txt") + " up.txt\n")).isZero();
      assertThat(tmp.resolve("data/demo/demo/up.txt")).hasContent("uploaded");
      // The read-only partner logs in but cannot upload.
      assertThat(sftp(port, kh, askpass, "partner", "pwd\n")).isZero();
      assertThat(sftp(port, kh, askpass, "partner", "put " + tmp.resolve("up.txt") + " up.txt\n")).isNotZero();
    } finally {
      gw.destroy();
      gw.waitFor(20, TimeUnit.SECONDS);
    }
  }

  /** The tenancy of homes as {@code render} applies it: the same decisions as the operator's. */
  @Test
  void renderKeepsEveryTenantInsideItsNamespacesArea() throws Exception {
    String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS test";
    Path manifests = Files.createDirectories(tmp.resolve("manifests"));
    StringBuilder y = new StringBuilder("""
        apiVersion: sftp.dev/v1alpha1
        kind: SftpGateway
        metadata: {name: files, namespace: ops}
        spec:
          users: {allowedNamespaces: [tenant-a, tenant-b]}
        """);
    String[][] users = {{"tenant-a", "alice", null}, {"tenant-b", "mallory", "/"}, {"tenant-b", "eve", "tenant-a/alice"},
        {"ops", "admin", "/"}};
    for (String[] u : users) {
      y.append("---\napiVersion: sftp.dev/v1alpha1\nkind: SftpUser\nmetadata: {name: ").append(u[1]).append(", namespace: ").append(u[0]).append("}\n")
          .append("spec:\n  gateway: {name: files, namespace: ops}\n  publicKeys: [\"").append(key).append("\"]\n");
      if (u[2] != null) {
        y.append("  home: \"").append(u[2]).append("\"\n");
      }
    }
    Files.writeString(manifests.resolve("all.yaml"), y.toString());
    Render.Result r = Render.render(List.of(manifests), tmp.resolve("config"), null);
    java.util.Map<String, dev.sftp.operator.render.Attachments.Attachment> by = new java.util.HashMap<>();
    r.users().forEach(a -> by.put(a.user().getMetadata().getName(), a));
    assertThat(by.get("alice").entry().home()).isEqualTo("tenant-a/alice");
    assertThat(by.get("eve").entry().home()).isEqualTo("tenant-b/tenant-a/alice");
    assertThat(by.get("mallory").reason()).isEqualTo("HomeNotAllowed");
    assertThat(by.get("admin").reason()).isEqualTo("HomeNotAllowed");
    assertThat(load(tmp.resolve("config")).users()).extracting(u -> u.name()).containsExactly("alice", "eve");

    Files.writeString(manifests.resolve("all.yaml"), y.toString().replace("users: {allowedNamespaces: [tenant-a, tenant-b]}",
        "users: {allowedNamespaces: [tenant-a, tenant-b], adminHomes: true}"));
    r = Render.render(List.of(manifests), tmp.resolve("config"), null);
    by.clear();
    r.users().forEach(a -> by.put(a.user().getMetadata().getName(), a));
    assertThat(by.get("admin").entry().home()).isEqualTo(".");
    assertThat(by.get("mallory").reason()).isEqualTo("HomeNotAllowed");
  }

  static int sftp(int port, Path kh, Path askpass, String user, String commands) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("sftp", "-P", String.valueOf(port), "-F", "/dev/null", "-o", "BatchMode=no",
        "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + kh, "-o", "PubkeyAuthentication=no",
        "-o", "NumberOfPasswordPrompts=1", "-b", "-", user + "@127.0.0.1").redirectErrorStream(true);
    pb.environment().put("SSH_ASKPASS", askpass.toString());
    pb.environment().put("SSH_ASKPASS_REQUIRE", "force");
    pb.environment().put("DISPLAY", ":0");
    Process p = pb.start();
    p.getOutputStream().write(commands.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return p.exitValue();
  }
}
