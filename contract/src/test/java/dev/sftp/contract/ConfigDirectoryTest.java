package dev.sftp.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Hand-written documents (not only the operator's complete ones) load as documented. */
class ConfigDirectoryTest {
  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS alice";

  @Test
  void optionalFlagsMayBeLeftOut(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("gateway.json"), """
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig",
         "server": {"hostKeys": ["k"]},
         "users": [{"name": "alice", "home": "alice", "authorizedKeys": ["%s"]},
                   {"name": "bob", "home": "bob", "authorizedKeys": ["%s"], "disabled": null, "readOnly": true}]}
        """.formatted(KEY, KEY));
    ConfigDirectory.Loaded loaded = ConfigDirectory.load(dir);
    assertThat(loaded.userErrors()).isEmpty();
    assertThat(loaded.users()).extracting(UserEntry::name).containsExactly("alice", "bob");
    assertThat(loaded.users().get(0).disabled()).isFalse();
    assertThat(loaded.users().get(0).readOnly()).isFalse();
    assertThat(loaded.users().get(1).readOnly()).isTrue();
  }

  @Test
  void aNonBooleanFlagIsRefusedWithItsPath(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("gateway.json"), """
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig", "server": {"hostKeys": ["k"]},
         "users": [{"name": "alice", "home": "alice", "authorizedKeys": ["%s"], "disabled": "no"}]}
        """.formatted(KEY));
    ConfigDirectory.Loaded loaded = ConfigDirectory.load(dir);
    assertThat(loaded.users()).isEmpty();
    assertThat(loaded.userErrors()).anySatisfy(e -> assertThat(e.path()).isEqualTo("$.users[0].disabled"));
  }

  @Test
  void userListsCanComeFromMemoryInsteadOfFiles(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("gateway.json"), """
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig", "server": {"hostKeys": ["k"]}}
        """);
    Files.writeString(dir.resolve("users-00.json"), """
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "UserList", "users": [{"name": "ondisk", "home": "d", "authorizedKeys": ["%s"]}]}
        """.formatted(KEY));
    byte[] fromApi = """
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "UserList", "users": [{"name": "fromapi", "home": "a", "authorizedKeys": ["%s"]}]}
        """.formatted(KEY).getBytes(StandardCharsets.UTF_8);
    assertThat(ConfigDirectory.load(dir).users()).extracting(UserEntry::name).containsExactly("ondisk");
    ConfigDirectory.Loaded loaded = ConfigDirectory.load(dir, Map.of("users-00.json", fromApi, "notes.txt", new byte[] {1, 2}));
    assertThat(loaded.users()).extracting(UserEntry::name).containsExactly("fromapi");
  }
}
