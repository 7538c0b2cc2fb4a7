package dev.sftp.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserSpec;
import dev.sftp.operator.reconciler.UserFixtures;
import io.fabric8.kubernetes.api.model.LabelSelectorBuilder;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The pure user decisions: who a gateway serves, and the reason a person reads for the others. */
class AttachmentsTest {
  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS tenant";
  static final Instant NOW = Instant.parse("2026-06-01T00:00:00Z");

  final Map<String, Map<String, String>> secrets = new HashMap<>();
  final Map<String, Map<String, String>> configMaps = new HashMap<>();
  final Map<String, Map<String, String>> namespaceLabels = new HashMap<>();
  final List<String> hashed = new ArrayList<>();

  final UserResolver.Lookup lookup = new UserResolver.Lookup() {
    @Override
    public Map<String, String> secret(String namespace, String name) {
      return secrets.get(namespace + "/" + name);
    }

    @Override
    public Map<String, String> configMap(String namespace, String name) {
      return configMaps.get(namespace + "/" + name);
    }
  };

  Attachments.Inputs inputs() {
    return Attachments.Inputs.of(lookup, (u, plain) -> {
      hashed.add(plain);
      return "$2y$10$" + "a".repeat(53);
    }, ns -> namespaceLabels.getOrDefault(ns, Map.of()), NOW);
  }

  static SftpGateway gateway(String ns, String name) {
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    gw.setSpec(new SftpGatewaySpec());
    return gw;
  }

  static SftpUser created(SftpUser u, String when) {
    u.getMetadata().setCreationTimestamp(when);
    return u;
  }

  Attachments.Attachment one(SftpGateway gw, SftpUser u) {
    List<Attachments.Attachment> all = Attachments.attach(gw, List.of(u), inputs());
    assertThat(all).hasSize(1);
    return all.get(0);
  }

  @Test
  void aKeyUserGetsTheDefaultsLoginFromItsNameAndHomeUnderItsNamespace() {
    Attachments.Attachment a = one(gateway("t", "files"), UserFixtures.keyUser("t", "alice", "files", KEY));
    assertThat(a.served()).isTrue();
    assertThat(a.reason()).isNull();
    assertThat(a.entry().name()).isEqualTo("alice");
    assertThat(a.entry().home()).isEqualTo("t/alice");
    assertThat(a.entry().permissions()).isNull();
    assertThat(a.fingerprints()).singleElement().asString().startsWith("SHA256:");
  }

  @Test
  void limitsAreQuantitiesOfBytesAndABadOneIsAConditionNotAFailure() {
    SftpUser u = UserFixtures.keyUser("t", "alice", "files", KEY);
    u.getSpec().limits = new dev.sftp.operator.model.SftpUserSpec.LimitsSpec();
    u.getSpec().limits.storage = "10Gi";
    u.getSpec().limits.files = 1000L;
    u.getSpec().limits.uploadBytesPerSecond = "1.5Mi";
    Attachments.Attachment a = one(gateway("t", "files"), u);
    assertThat(a.entry().limits()).isEqualTo(new dev.sftp.contract.UserLimits(10L << 30, 1000L, 1572864L, null));
    u.getSpec().limits.downloadBytesPerSecond = "1k";
    Attachments.Attachment slow = one(gateway("t", "files"), u);
    assertThat(slow.served()).isFalse();
    assertThat(slow.reason()).isEqualTo("InvalidLimit");
    assertThat(slow.message()).isEqualTo("spec.limits.downloadBytesPerSecond: expected a whole number of at least 8192");
    u.getSpec().limits.downloadBytesPerSecond = "ten";
    assertThat(one(gateway("t", "files"), u).message()).isEqualTo("spec.limits.downloadBytesPerSecond: 'ten' is not a quantity of bytes such as 10Gi or 500M");
  }

  /**
   * Every namespace has its own area of the volume: a custom home is taken inside it, so a
   * tenant cannot name another tenant's folder (or the root) whatever it writes. Only the
   * gateway's own namespace, with the gateway's explicit grant, gets homes outside its area.
   */
  @Test
  void homesLieInsideTheirNamespacesAreaUnlessTheGatewayGrantsItsOwnNamespaceMore() {
    SftpGateway gw = gateway("ops", "files");
    gw.getSpec().users = new dev.sftp.operator.model.SftpGatewaySpec.UserPolicySpec();
    gw.getSpec().users.allowedNamespaces = List.of("tenant-a", "tenant-b");
    java.util.function.BiFunction<String, String, Attachments.Attachment> homed = (ns, home) -> {
      SftpUser u = UserFixtures.keyUser(ns, "u", "files", KEY);
      u.getSpec().gateway.namespace = "ops";
      u.getSpec().home = home;
      return one(gw, u);
    };
    assertThat(homed.apply("tenant-b", "shared/inbox").entry().home()).isEqualTo("tenant-b/shared/inbox");
    // Naming another tenant's folder lands inside one's own area.
    assertThat(homed.apply("tenant-b", "tenant-a").entry().home()).isEqualTo("tenant-b/tenant-a");
    assertThat(homed.apply("tenant-b", "./x//y/").entry().home()).isEqualTo("tenant-b/x/y");
    assertThat(homed.apply("tenant-b", ".").entry().home()).isEqualTo("tenant-b");
    assertThat(homed.apply("tenant-b", "x/../../tenant-a").reason()).isEqualTo("InvalidHome");
    // A home from the volume's root is refused to tenants, and to the gateway's own namespace
    // until the gateway grants it.
    for (String ns : List.of("tenant-a", "ops")) {
      for (String home : List.of("/", "/tenant-a", "//tenant-a/alice")) {
        Attachments.Attachment a = homed.apply(ns, home);
        assertThat(a.served()).isFalse();
        assertThat(a.reason()).isEqualTo("HomeNotAllowed");
        assertThat(a.message()).contains("spec.users.adminHomes: true").contains("relative to " + ns + "/");
      }
    }
    gw.getSpec().users.adminHomes = true;
    assertThat(homed.apply("ops", "/").entry().home()).isEqualTo(".");
    assertThat(homed.apply("ops", "//tenant-a/./alice").entry().home()).isEqualTo("tenant-a/alice");
    assertThat(homed.apply("ops", "/../etc").reason()).isEqualTo("InvalidHome");
    assertThat(homed.apply("tenant-a", "/").reason()).as("a tenant never gets it").isEqualTo("HomeNotAllowed");
  }

  @Test
  void usersOfOtherGatewaysAreNotCandidates() {
    assertThat(Attachments.attach(gateway("t", "files"), List.of(UserFixtures.keyUser("t", "a", "other", KEY)), inputs())).isEmpty();
  }

  @Test
  void theOlderUserKeepsAContestedLoginAndTheYoungerIsToldWho() {
    SftpUser old = created(UserFixtures.keyUser("t", "zed", "files", KEY), "2026-01-01T00:00:01Z");
    SftpUser young = created(UserFixtures.keyUser("t", "amy", "files", KEY), "2026-01-01T00:00:02Z");
    young.getSpec().username = "zed";
    List<Attachments.Attachment> all = Attachments.attach(gateway("t", "files"), List.of(young, old), inputs());
    assertThat(all).extracting(a -> a.user().getMetadata().getName()).containsExactly("zed", "amy");
    assertThat(all.get(0).served()).isTrue();
    assertThat(all.get(1).served()).isFalse();
    assertThat(all.get(1).reason()).isEqualTo("UsernameConflict");
    assertThat(all.get(1).message()).contains("t/zed").contains("set spec.username");
  }

  @Test
  void withinTheSameSecondTheFirstByNamespaceThenNameWinsWhateverTheOrderSeen() {
    SftpUser b = created(UserFixtures.keyUser("b-team", "x", "files", KEY), "2026-01-01T00:00:01Z");
    b.getSpec().gateway.namespace = "t";
    SftpUser a = created(UserFixtures.keyUser("a-team", "x", "files", KEY), "2026-01-01T00:00:01Z");
    a.getSpec().gateway.namespace = "t";
    SftpGateway gw = gateway("t", "files");
    gw.getSpec().users = new SftpGatewaySpec.UserPolicySpec();
    gw.getSpec().users.allowedNamespaces = List.of("a-team", "b-team");
    for (List<SftpUser> order : List.of(List.of(a, b), List.of(b, a))) {
      List<Attachments.Attachment> all = Attachments.attach(gw, order, inputs());
      assertThat(all.stream().filter(Attachments.Attachment::served).map(x -> x.user().getMetadata().getNamespace())).containsExactly("a-team");
    }
  }

  @Test
  void otherNamespacesNeedTheGatewaysAdmission() {
    SftpUser guest = UserFixtures.keyUser("guests", "g", "files", KEY);
    guest.getSpec().gateway.namespace = "t";
    SftpGateway gw = gateway("t", "files");
    Attachments.Attachment refused = one(gw, guest);
    assertThat(refused.reason()).isEqualTo("NamespaceNotAllowed");
    assertThat(refused.message()).contains("allowedNamespaces");
    gw.getSpec().users = new SftpGatewaySpec.UserPolicySpec();
    gw.getSpec().users.namespaceSelector = new LabelSelectorBuilder().withMatchLabels(Map.of("sftp", "yes")).build();
    assertThat(one(gw, guest).reason()).isEqualTo("NamespaceNotAllowed");
    namespaceLabels.put("guests", Map.of("sftp", "yes"));
    assertThat(one(gw, guest).served()).isTrue();
    gw.getSpec().users.namespaceSelector = null;
    gw.getSpec().users.allowedNamespaces = List.of("guests");
    assertThat(one(gw, guest).served()).isTrue();
  }

  @Test
  void disabledAndExpiredUsersAreRenderedAndSaySo() {
    SftpUser off = UserFixtures.keyUser("t", "off", "files", KEY);
    off.getSpec().disabled = true;
    Attachments.Attachment a = one(gateway("t", "files"), off);
    assertThat(a.served()).isTrue();
    assertThat(a.entry().disabled()).isTrue();
    assertThat(a.reason()).isEqualTo("Disabled");
    SftpUser old = UserFixtures.keyUser("t", "old", "files", KEY);
    old.getSpec().expiresAt = "2026-05-31T23:59:59Z";
    assertThat(one(gateway("t", "files"), old).reason()).isEqualTo("Expired");
    old.getSpec().expiresAt = "2026-06-01T00:00:01Z";
    assertThat(one(gateway("t", "files"), old).reason()).isNull();
  }

  @Test
  void contractRulesComeBackWithTheirReasonAndWhereTheValueCameFrom() {
    SftpGateway gw = gateway("t", "files");
    SftpUser dsa = UserFixtures.keyUser("t", "dsa", "files", KEY, "ssh-dss AAAAB3NzaC1kc3MAAACBAP8= old");
    Attachments.Attachment a = one(gw, dsa);
    assertThat(a.reason()).isEqualTo("InvalidPublicKey");
    assertThat(a.message()).startsWith("public key 2 of 2 (spec.publicKeys[1]) is refused: ").contains("DSA");
    SftpUser upper = UserFixtures.keyUser("t", "Bob", "files", KEY);
    assertThat(one(gw, upper).reason()).isEqualTo("InvalidUsername");
    assertThat(one(gw, upper).message()).contains("set spec.username");
    SftpUser climber = UserFixtures.keyUser("t", "c", "files", KEY);
    climber.getSpec().home = "../other";
    assertThat(one(gw, climber).reason()).isEqualTo("InvalidHome");
    SftpUser when = UserFixtures.keyUser("t", "w", "files", KEY);
    when.getSpec().expiresAt = "tomorrow";
    assertThat(one(gw, when).reason()).isEqualTo("InvalidExpiry");
    SftpUser nothing = UserFixtures.user("t", "n", "files");
    assertThat(one(gw, nothing).reason()).isEqualTo("NoCredentials");
    SftpUser net = UserFixtures.keyUser("t", "net", "files", KEY);
    net.getSpec().allowedSourceCidrs = List.of("10.0.0.0/33");
    assertThat(one(gw, net).reason()).isEqualTo("InvalidSourceCidr");
    assertThat(one(gw, net).message()).startsWith("spec.allowedSourceCidrs[0]: ");
  }

  @Test
  void keysFromAConfigMapAreReadLineByLineAndAMissingOneIsNamed() {
    SftpGateway gw = gateway("t", "files");
    SftpUser u = UserFixtures.user("t", "k", "files");
    u.getSpec().authorizedKeysFrom = new SftpUserSpec.KeySource();
    u.getSpec().authorizedKeysFrom.configMapKeyRef = new SftpUserSpec.KeyRef();
    u.getSpec().authorizedKeysFrom.configMapKeyRef.name = "keys";
    u.getSpec().authorizedKeysFrom.configMapKeyRef.key = "authorized_keys";
    assertThat(one(gw, u).reason()).isEqualTo("ConfigMapNotFound");
    configMaps.put("t/keys", Map.of("other", ""));
    assertThat(one(gw, u).message()).contains("has no key 'authorized_keys'");
    configMaps.put("t/keys", Map.of("authorized_keys", "# comment\n\n" + KEY + "\nnot-a-key AAAA\n"));
    Attachments.Attachment a = one(gw, u);
    assertThat(a.reason()).isEqualTo("InvalidPublicKey");
    assertThat(a.message()).contains("line 4 of ConfigMap keys key 'authorized_keys'");
    configMaps.put("t/keys", Map.of("authorized_keys", "# comment\n" + KEY + "\n"));
    assertThat(one(gw, u).entry().authorizedKeys()).containsExactly(KEY);
  }

  @Test
  void passwordsAreHashedHashesAreTakenAsTheyAreAndBadOnesAreRefused() {
    SftpGateway gw = gateway("t", "files");
    SftpUser u = UserFixtures.passwordUser("t", "p", "files", "p-secret");
    assertThat(one(gw, u).reason()).isEqualTo("SecretNotFound");
    String key = u.getSpec().password.secretKeyRef.key;
    secrets.put("t/p-secret", Map.of(key, "  "));
    assertThat(one(gw, u).reason()).isEqualTo("InvalidPassword");
    secrets.put("t/p-secret", Map.of(key, "correct horse\n"));
    UserEntry e = one(gw, u).entry();
    assertThat(hashed).containsExactly("correct horse");
    assertThat(e.passwordHash()).startsWith("$2y$10$");
    String argon = PasswordHashes.hashArgon2id("x");
    secrets.put("t/p-secret", Map.of(key, argon));
    assertThat(one(gw, u).entry().passwordHash()).isEqualTo(argon);
    assertThat(hashed).hasSize(1);
    secrets.put("t/p-secret", Map.of(key, "$argon2id$v=19$m=1,t=1,p=1$broken"));
    Attachments.Attachment bad = one(gw, u);
    assertThat(bad.reason()).isEqualTo("InvalidPassword");
    assertThat(bad.message()).startsWith("the password in Secret p-secret looks like a hash but");
  }

  @Test
  void anOlderUserFromANamespaceTheGatewayDoesNotAdmitTakesNoLogin() {
    SftpUser intruder = created(UserFixtures.keyUser("evil", "alice", "files", KEY), "2020-01-01T00:00:00Z");
    intruder.getSpec().gateway.namespace = "t";
    SftpUser alice = created(UserFixtures.keyUser("t", "alice", "files", KEY), "2026-01-01T00:00:00Z");
    List<Attachments.Attachment> all = Attachments.attach(gateway("t", "files"), List.of(intruder, alice), inputs());
    assertThat(all).filteredOn(Attachments.Attachment::served).singleElement()
        .satisfies(a -> assertThat(a.user().getMetadata().getNamespace()).isEqualTo("t"));
    assertThat(all).filteredOn(a -> !a.served()).singleElement().satisfies(a -> assertThat(a.reason()).isEqualTo("NamespaceNotAllowed"));
  }

  @Test
  void aUserReadsSecretsOfItsOwnNamespaceOnly() {
    SftpUser u = UserFixtures.passwordUser("t", "p", "files", "shared-name");
    secrets.put("other/shared-name", Map.of("password", PasswordHashes.hashBcrypt("theirs", 4)));
    Attachments.Attachment a = one(gateway("t", "files"), u);
    assertThat(a.served()).isFalse();
    assertThat(a.reason()).isEqualTo("SecretNotFound");
    assertThat(a.message()).contains("namespace t");
  }
}
