package dev.sftp.contract;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Hand-written documents (not only the operator's complete ones) load as documented. */
class ConfigDirectoryTest {
  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS alice";

  @Test
  void optionalFlagsMayBeLeftOut() throws Exception {
    byte[] main = bytes("""
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig",
         "server": {"hostKeys": ["k"]},
         "users": [{"name": "alice", "home": "alice", "authorizedKeys": ["%s"]},
                   {"name": "bob", "home": "bob", "authorizedKeys": ["%s"], "disabled": null, "readOnly": true}]}
        """.formatted(KEY, KEY));
    ConfigDirectory.Loaded loaded = ConfigDirectory.parse("gateway.json", main, Map.of());
    assertThat(loaded.userErrors()).isEmpty();
    assertThat(loaded.users()).extracting(UserEntry::name).containsExactly("alice", "bob");
    assertThat(loaded.users().get(0).disabled()).isFalse();
    assertThat(loaded.users().get(0).readOnly()).isFalse();
    assertThat(loaded.users().get(1).readOnly()).isTrue();
  }

  @Test
  void aNonBooleanFlagIsRefusedWithItsPath() throws Exception {
    byte[] main = bytes("""
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig", "server": {"hostKeys": ["k"]},
         "users": [{"name": "alice", "home": "alice", "authorizedKeys": ["%s"], "disabled": "no"}]}
        """.formatted(KEY));
    ConfigDirectory.Loaded loaded = ConfigDirectory.parse("gateway.json", main, Map.of());
    assertThat(loaded.users()).isEmpty();
    assertThat(loaded.userErrors()).anySatisfy(e -> assertThat(e.path()).isEqualTo("$.users[0].disabled"));
  }

  @Test
  void userListsAreReadByNameAndOtherFilesAreSkipped() throws Exception {
    byte[] main = bytes("""
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig", "server": {"hostKeys": ["k"]}}
        """);
    byte[] list = bytes("""
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "UserList", "users": [{"name": "listed", "home": "a", "authorizedKeys": ["%s"]}]}
        """.formatted(KEY));
    ConfigDirectory.Loaded loaded = ConfigDirectory.parse("gateway.json", main, Map.of(ConfigDirectory.userListFile(0), list, "notes.txt", new byte[] {1, 2}));
    assertThat(loaded.users()).extracting(UserEntry::name).containsExactly("listed");
    assertThat(ConfigDirectory.users(Map.of("users-07.json", list)).valid()).extracting(UserEntry::name).containsExactly("listed");
    assertThat(ConfigDirectory.parse("gateway.json", main, Map.of()).digest()).isNotEqualTo(loaded.digest());
  }

  @Test
  void aDuplicateLoginDisablesEveryEntryOfItWithItsReason() throws Exception {
    byte[] main = bytes("""
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "GatewayConfig", "users": [{"name": "twice", "home": "a", "authorizedKeys": ["%s"]}]}
        """.formatted(KEY));
    byte[] list = bytes("""
        {"apiVersion": "gateway.sftp.dev/v1alpha1", "kind": "UserList", "users": [{"name": "twice", "home": "b", "authorizedKeys": ["%s"]}]}
        """.formatted(KEY));
    ConfigDirectory.Loaded loaded = ConfigDirectory.parse("gateway.json", main, Map.of("users-00.json", list));
    assertThat(loaded.users()).isEmpty();
    assertThat(loaded.userErrors()).hasSize(2).allSatisfy(e -> assertThat(e.reason()).isEqualTo(ValidationError.Reason.DUPLICATE_USER));
  }
}
