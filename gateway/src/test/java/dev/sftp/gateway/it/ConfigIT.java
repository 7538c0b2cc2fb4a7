package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.ContractException;
import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.UserList;
import dev.sftp.gateway.server.GatewayServer;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Keys;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.sftp.client.SftpClient;
import org.apache.sshd.sftp.client.SftpClientFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Config directory handling: bad entries, bad documents, live reloads, host keys as mounted. */
class ConfigIT {
  @TempDir Path tmp;

  static UserEntry keyUser(String name, String keyLine) {
    return new UserEntry(name, null, List.of(keyLine), name, false, null, null, false, null, null, null);
  }

  @Test
  void aBrokenUserEntryDisablesOnlyThatUser() throws Exception {
    String good = Keys.publicLine("ed25519");
    Path dsa = Keys.generate("dsa", tmp.resolve("id_dsa"));
    Path rsa1024 = Keys.generate("rsa1024", tmp.resolve("id_rsa1024"));
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"),
        keyUser("good", good),
        keyUser("badkey", "ssh-ed25519 AAAAthis-is-not-base64!"),
        keyUser("dsa", Files.readString(Path.of(dsa + ".pub")).trim()),
        keyUser("weakrsa", Files.readString(Path.of(rsa1024 + ".pub")).trim()),
        new UserEntry("plainpw", "hunter2", List.of(good), "plainpw", false, null, null, false, null, null, null),
        keyUser("Bad Name", good),
        new UserEntry("escaper", null, List.of(good), "../../etc", false, null, null, false, null, null, null),
        keyUser("twice", good),
        keyUser("twice", good))) {
      assertThat(gw.server().registry().all().keySet()).containsExactly("good");
      ok(Clients.sftp(gw, Login.key("good", "ed25519"), "pwd"));
      assertThat(Clients.sftp(gw, new Login("dsa", dsa, null), "pwd").exit()).isNotZero();
      assertThat(Clients.sftp(gw, Login.key("twice", "ed25519"), "pwd").exit()).isNotZero();
      assertThat(Clients.sftp(gw, Login.key("escaper", "ed25519"), "pwd").exit()).isNotZero();
    }
  }

  @Test
  void anUnparseableDocumentStopsTheStartWithWhatAndWhere() throws Exception {
    Path dir = tmp.resolve("broken");
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("gateway.json"), "{\n  \"apiVersion\": \"gateway.sftp.dev/v1alpha1\",\n  \"kind\": \"GatewayConfig\",\n  \"server\": { \"port\": 2222,, }\n}\n");
    GatewayServer s = new GatewayServer(dir, GatewayServer.Overrides.NONE, Duration.ZERO);
    assertThatThrownBy(s::start).isInstanceOf(ContractException.class)
        .hasMessageContaining(dir.resolve("gateway.json").toString())
        .hasMessageContaining("line 4");

    Files.writeString(dir.resolve("gateway.json"), "{\"apiVersion\":\"gateway.sftp.dev/v9\",\"kind\":\"GatewayConfig\",\"server\":{\"port\":70000,\"setstatMode\":\"Sometimes\",\"colour\":\"blue\"}}");
    assertThatThrownBy(s::start).isInstanceOf(ContractException.class)
        .hasMessageContaining("$.apiVersion: unsupported version 'gateway.sftp.dev/v9'")
        .hasMessageContaining("$.server.port: expected an integer from 0 to 65535")
        .hasMessageContaining("$.server.setstatMode: unknown setstatMode 'Sometimes'")
        .hasMessageContaining("$.server.colour: unknown field");
  }

  @Test
  void usersAreAddedRotatedAndRemovedWhileOthersStayConnected() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), keyUser("stay", Keys.publicLine("ed25519")), keyUser("leave", Keys.publicLine("ed25519")))) {
      assertThat(Clients.sftp(gw, Login.key("newbie", "ecdsa"), "pwd").exit()).isNotZero();
      try (SshClient client = SshClient.setUpDefaultClient()) {
        client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
        client.setKeyIdentityProvider(new FileKeyPairProvider(Keys.key("ed25519")));
        client.start();
        ClientSession stay = login(client, gw, "stay");
        ClientSession leave = login(client, gw, "leave");
        SftpClient staySftp = SftpClientFactory.instance().createSftpClient(stay);
        staySftp.mkdir("before");

        // Add a user and rotate nobody else's key: "stay" keeps its session.
        gw.setUsers(keyUser("stay", Keys.publicLine("ed25519")), keyUser("leave", Keys.publicLine("ed25519")), keyUser("newbie", Keys.publicLine("ecdsa")));
        ok(Clients.sftp(gw, Login.key("newbie", "ecdsa"), "pwd"));
        assertThat(leave.isOpen()).isTrue();

        // Rotate newbie's key: the old one stops working, the new one works.
        gw.setUsers(keyUser("stay", Keys.publicLine("ed25519")), keyUser("leave", Keys.publicLine("ed25519")), keyUser("newbie", Keys.publicLine("rsa")));
        assertThat(Clients.sftp(gw, Login.key("newbie", "ecdsa"), "pwd").exit()).isNotZero();
        ok(Clients.sftp(gw, Login.key("newbie", "rsa"), "pwd"));

        // Remove "leave": its open session ends, "stay" carries on.
        gw.setUsers(keyUser("stay", Keys.publicLine("ed25519")), keyUser("newbie", Keys.publicLine("rsa")));
        await().atMost(Duration.ofSeconds(10)).until(() -> !leave.isOpen());
        staySftp.mkdir("after");
        assertThat(gw.home("stay").resolve("after")).isDirectory();
        assertThat(Clients.sftp(gw, Login.key("leave", "ed25519"), "pwd").exit()).isNotZero();
        staySftp.close();
        stay.close();
      }
    }
  }

  @Test
  void filesAreFsyncedOnCloseOnlyWhenConfigured() throws Exception {
    try (TestGateway plain = TestGateway.start(tmp.resolve("plain"), TestGateway.user("u", "ed25519"))) {
      assertThat(plain.server().fsyncOnClose()).as("OpenSSH's default: no fsync unless the client asks").isFalse();
    }
    ServerSettings s = TestGateway.settings(null);
    ServerSettings synced = s.toBuilder().fsyncOnClose(true).build();
    try (TestGateway gw = TestGateway.start(tmp.resolve("synced"), synced, TestGateway.user("u", "ed25519"))) {
      assertThat(gw.server().fsyncOnClose()).isTrue();
      Path src = tmp.resolve("f.bin");
      Files.write(src, new byte[300_000]);
      ok(Clients.sftp(gw, Login.key("u", "ed25519"), "put " + src + " f.bin"));
      assertThat(Files.size(gw.home("u").resolve("f.bin"))).isEqualTo(300_000);
    }
  }

  @Test
  void aBrokenReloadKeepsTheCurrentUsers() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), keyUser("keep", Keys.publicLine("ed25519")))) {
      Files.writeString(gw.configDir.resolve("gateway.json"), "{ not json");
      assertThatThrownBy(() -> gw.server().reload()).isInstanceOf(ContractException.class);
      ok(Clients.sftp(gw, Login.key("keep", "ed25519"), "pwd"));
    }
  }

  @Test
  void usersCanComeFromUserListsBesideTheDocument() throws Exception {
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), keyUser("main", Keys.publicLine("ed25519")))) {
      Files.writeString(gw.configDir.resolve("users-0001.json"), ContractJson.write(UserList.of(List.of(keyUser("sharded", Keys.publicLine("ecdsa"))))));
      Files.writeString(gw.configDir.resolve("users-0002.json"), "{\"apiVersion\":\"gateway.sftp.dev/v1alpha1\",\"kind\":\"UserList\",\"users\":[{\"name\":\"broken\"}]}");
      gw.reloadNow();
      ok(Clients.sftp(gw, Login.key("sharded", "ecdsa"), "pwd"));
      ok(Clients.sftp(gw, Login.key("main", "ed25519"), "pwd"));
      ConfigDirectory.Loaded loaded = dev.sftp.gateway.config.ConfigFiles.load(gw.configDir);
      assertThat(loaded.userErrors()).anySatisfy(e -> assertThat(e.path()).startsWith("users-0002.json $.users[0]"));
    }
  }

  /** The layout a Secret volume has: ..data links, read-only files, mode 0440, group owned. */
  @Test
  void hostKeysMountedFromASecretAreAccepted() throws Exception {
    Path config = tmp.resolve("mounted");
    Path data = config.resolve("..2026_11_25_10_00_00.123456");
    Files.createDirectories(data);
    Keys.generate("ed25519", data.resolve("ssh_host_ed25519_key"));
    Keys.generate("rsa-pem", data.resolve("ssh_host_rsa_key"));
    GatewayConfig doc = GatewayConfig.of(
        ServerSettings.builder().hostKeys(List.of("ssh_host_ed25519_key", "ssh_host_rsa_key")).dataRoot(tmp.resolve("data").toString()).build(),
        List.of(keyUser("k8s", Keys.publicLine("ed25519"))));
    Files.writeString(data.resolve("gateway.json"), ContractJson.write(doc));
    Files.createSymbolicLink(config.resolve("..data"), data.getFileName());
    for (String f : List.of("ssh_host_ed25519_key", "ssh_host_rsa_key", "gateway.json")) {
      Files.setPosixFilePermissions(data.resolve(f), PosixFilePermissions.fromString("r--r-----"));
      Files.createSymbolicLink(config.resolve(f), Path.of("..data").resolve(f));
    }
    try (GatewayServer s = new GatewayServer(config, new GatewayServer.Overrides("127.0.0.1", 0), Duration.ZERO)) {
      s.start();
      assertThat(s.hostKeys()).hasSize(2);
      for (var k : s.hostKeys()) {
        // (ssh-keygen itself refuses the 0440 private key as "too open": ask it about the .pub.)
        Proc.Result lf = Proc.run(List.of("ssh-keygen", "-lf", data.resolve(k.file() + ".pub").toString()), Map.of(), null, Duration.ofSeconds(20));
        assertThat(lf.exit()).as(lf.toString()).isZero();
        // ssh-keygen prints "256 SHA256:... comment (ED25519)"; the gateway logs the same bits, hash and type.
        String[] parts = lf.out().trim().split(" ");
        assertThat(k.fingerprintLine()).startsWith(parts[0] + " " + parts[1]).endsWith(parts[parts.length - 1]);
      }
    }
  }

  private static ClientSession login(SshClient client, TestGateway gw, String user) throws Exception {
    ClientSession s = client.connect(user, "127.0.0.1", gw.port()).verify(Duration.ofSeconds(20)).getSession();
    s.auth().verify(Duration.ofSeconds(20));
    return s;
  }
}
