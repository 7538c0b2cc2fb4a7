package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.PasswordHashes;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.Attachments;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The cache of resolutions: a user is resolved again exactly when it or what it reads changed. */
class UserDirectoryTest {
  static final KubernetesClient CLIENT = new KubernetesClientBuilder().build(); // every read here hits the stores

  @AfterAll
  static void close() {
    CLIENT.close();
  }

  final UserDirectory directory = new UserDirectory(CLIENT);
  final SlimStore<Secret> secrets = SlimStore.whole();
  final SlimStore<ConfigMap> configMaps = SlimStore.whole();
  final io.fabric8.kubernetes.client.informers.cache.ItemStore<Secret> secretsInformer = secrets.informerStore();
  final SftpGateway gw = gateway();

  static SftpGateway gateway() {
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName("files").withNamespace("t").build());
    gw.setSpec(new SftpGatewaySpec());
    return gw;
  }

  void password(String rv, String value) {
    secretsInformer.put("t/pw", new SecretBuilder().withNewMetadata().withName("pw").withNamespace("t").withResourceVersion(rv).endMetadata()
        .withData(Map.of("password", Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8)))).build());
  }

  {
    directory.useOwnSecrets(SlimStore.whole()); // no rendered shards unless a test puts some
  }

  /** The rendered hash, once the background hashing has made it. */
  String renderedHash(SftpUser u) {
    String[] out = new String[1];
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      Attachments.Attachment a = Attachments.attach(gw, List.of(u), directory.inputs(secrets, configMaps, gw)).get(0);
      out[0] = a.served() ? a.entry().passwordHash() : null;
      return out[0] != null;
    });
    return out[0];
  }

  @Test
  void aPlainPasswordIsHashedInTheBackgroundWhileTheUserWaitsWithAReason() {
    SftpUser u = UserFixtures.passwordUser("t", "cat", "files", "pw");
    u.getMetadata().setUid("uid-cat");
    u.getMetadata().setResourceVersion("1");
    password("1", "slow to hash");
    Attachments.Attachment first = Attachments.attach(gw, List.of(u), directory.inputs(secrets, configMaps, gw)).get(0);
    assertThat(first.served()).isFalse();
    assertThat(first.reason()).isEqualTo("PasswordHashing");
    assertThat(first.message()).contains("Secret pw");
    String h = renderedHash(u);
    assertThat(PasswordHashes.verify(h, "slow to hash")).isTrue();
    assertThat(directory.hashing()).isFalse();
    // The same password later: the same hash, at once.
    assertThat(Attachments.attach(gw, List.of(u), directory.inputs(secrets, configMaps, gw)).get(0).entry().passwordHash()).isEqualTo(h);
  }

  @Test
  void anUnchangedUserIsNotResolvedAgainAndAChangedSecretIs() {
    SftpUser u = UserFixtures.passwordUser("t", "ann", "files", "pw");
    u.getMetadata().setUid("uid-ann");
    u.getMetadata().setResourceVersion("10");
    password("1", "first");
    String h1 = renderedHash(u);
    assertThat(PasswordHashes.verify(h1, "first")).isTrue();
    // Same versions: the cached resolution, even though the data under it was swapped.
    password("1", "second");
    assertThat(renderedHash(u)).isEqualTo(h1);
    // The Secret's version moves: resolved again.
    password("2", "second");
    assertThat(PasswordHashes.verify(renderedHash(u), "second")).isTrue();
    // The user's own version moves (a spec edit): resolved again.
    u.getSpec().home = "elsewhere";
    u.getMetadata().setResourceVersion("11");
    renderedHash(u);
    List<Attachments.Attachment> a = Attachments.attach(gw, List.of(u), directory.inputs(secrets, configMaps, gw));
    assertThat(a.get(0).entry().home()).isEqualTo("t/elsewhere");
  }

  @Test
  void usersWithoutVersionsAreResolvedEveryTime() {
    SftpUser u = UserFixtures.passwordUser("t", "bob", "files", "pw");
    password("1", "first");
    String h1 = renderedHash(u);
    password("1", "second");
    assertThat(PasswordHashes.verify(renderedHash(u), "second")).isTrue();
    assertThat(h1).isNotNull();
  }

  /**
   * A tenant put a costly argon2id hash (1 GiB, 64 passes) in its Secret, had it rendered, then
   * wrote a plain password: the operator hashes that anew instead of checking it against the
   * tenant's hash, which would take a gigabyte of its heap.
   */
  @Test
  void aTenantsCostlyRenderedHashIsNeverCheckedAgain() {
    String costly = "$argon2id$v=19$m=1048576,t=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$Vq3LhLn9o+e1cFuzpt5YW9qsGI3kZhbqTLJIf0FCMqA";
    SlimStore<Secret> own = SlimStore.whole();
    var ownInformer = own.informerStore();
    for (Secret shard : dev.sftp.operator.render.GatewayRender.userShards(gw,
        List.of(new dev.sftp.contract.UserEntry("eve", costly, null, "t/eve", false, null, null, false, null, null, null)))) {
      ownInformer.put(ownInformer.getKey(shard), shard);
    }
    SftpUser u = UserFixtures.passwordUser("t", "eve", "files", "pw");
    u.getMetadata().setUid("uid-eve");
    u.getMetadata().setResourceVersion("1");
    password("1", "now plain");
    directory.useOwnSecrets(own);
    assertThat(directory.renderedHashes(gw)).containsEntry("eve", costly);
    String hash = renderedHash(u);
    assertThat(hash).isNotEqualTo(costly);
    assertThat(PasswordHashes.isDefaultArgon2id(hash)).isTrue();
    assertThat(PasswordHashes.verify(hash, "now plain")).isTrue();
  }

  /** A password rewritten in a loop queues one job for its user, and the last one wins. */
  @Test
  void aPasswordChangedOverAndOverQueuesOneJobAndTheLastWins() {
    SftpUser u = UserFixtures.passwordUser("t", "loop", "files", "pw");
    u.getMetadata().setUid("uid-loop");
    for (int i = 0; i < 50; i++) {
      assertThat(directory.hash(u, "pw-" + i, Map::of)).isNull();
      assertThat(directory.queuedHashes()).isLessThanOrEqualTo(1);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> directory.hash(u, "pw-49", Map::of) != null);
    assertThat(PasswordHashes.verify(directory.hash(u, "pw-49", Map::of), "pw-49")).isTrue();
    assertThat(directory.hashing()).isFalse();
  }
}
