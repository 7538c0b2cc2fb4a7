package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.ManagedFieldsEntryBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The informer cache that keeps only what the operator reads. */
class SlimStoreTest {
  static Secret secret(String name, String rv) {
    return new SecretBuilder().withNewMetadata().withName(name).withNamespace("t").withResourceVersion(rv).withUid("uid-" + name)
        .withManagedFields(new ManagedFieldsEntryBuilder().withManager("kubectl").build())
        .withAnnotations(Map.of(SlimStore.LAST_APPLIED, "{...the whole object again...}", "keep", "me"))
        .endMetadata().withData(Map.of("password", "c2VjcmV0")).build();
  }

  final Set<String> referenced = new java.util.HashSet<>();
  final SlimStore<Secret> store = new SlimStore<>(s -> referenced.contains(s.getMetadata().getName()),
      m -> { Secret s = new Secret(); s.setMetadata(m); return s; });
  /** What one informer writes to. */
  final io.fabric8.kubernetes.client.informers.cache.ItemStore<Secret> informer = store.informerStore();

  @Test
  void aReferencedObjectIsKeptWholeWithoutManagedFieldsOrTheLastAppliedCopy() {
    referenced.add("a");
    informer.put(informer.getKey(secret("a", "1")), secret("a", "1"));
    Secret a = store.get("t/a");
    assertThat(SlimStore.isStub(a)).isFalse();
    assertThat(a.getData()).containsEntry("password", "c2VjcmV0");
    assertThat(a.getMetadata().getManagedFields()).isNull();
    assertThat(a.getMetadata().getAnnotations()).containsOnlyKeys("keep");
  }

  @Test
  void anUnreferencedObjectIsAStubThatKeepsItsVersionAndIsUpgradedOnlyToThatVersion() {
    informer.put("t/b", secret("b", "1"));
    Secret b = store.get("t/b");
    assertThat(SlimStore.isStub(b)).isTrue();
    assertThat(b.getData()).isNullOrEmpty();
    assertThat(b.getMetadata().getResourceVersion()).isEqualTo("1");
    assertThat(b.getMetadata().getUid()).isEqualTo("uid-b");
    // A GET that returned an older version than the informer has since seen does not win.
    informer.put("t/b", secret("b", "2"));
    assertThat(SlimStore.isStub(store.upgrade(secret("b", "1")))).isTrue();
    Secret up = store.upgrade(secret("b", "2"));
    assertThat(SlimStore.isStub(up)).isFalse();
    assertThat(up.getData()).containsKey("password");
    assertThat(store.get("t/b").getMetadata().getManagedFields()).isNull();
    // Gone from the cluster: nothing to upgrade.
    informer.remove("t/b");
    assertThat(store.upgrade(secret("b", "2"))).isNull();
    assertThat(informer.size()).isZero();
  }

  @Test
  void aStoreCanDropMoreOfWhatItsReadersNeverRead() {
    SlimStore<Secret> noData = new SlimStore<>(s -> true, null, s -> s.setData(null));
    noData.informerStore().put("t/c", secret("c", "1"));
    assertThat(noData.get("t/c").getData()).isNull();
    assertThat(SlimStore.isStub(noData.get("t/c"))).isFalse();
  }

  /**
   * Two informers (two watched namespaces) each with a store of their own: a (re)list of one,
   * which drops from its store what the list did not return, leaves the other's objects alone,
   * and the cache reads both.
   */
  @Test
  void eachInformerHasItsOwnStoreAndTheCacheReadsThemAll() {
    referenced.add("a");
    referenced.add("b");
    var first = store.informerStore();
    var second = store.informerStore();
    first.put("t/a", secret("a", "1"));
    Secret other = secret("b", "1");
    other.getMetadata().setNamespace("u");
    second.put("u/b", other);
    assertThat(first.keySet()).containsExactly("t/a");
    assertThat(second.keySet()).containsExactly("u/b");
    assertThat(store.get("t/a")).isNotNull();
    assertThat(store.get("u/b")).isNotNull();
    first.remove("t/a");
    assertThat(store.get("t/a")).isNull();
    assertThat(store.get("u/b")).isNotNull();
  }

  /** Strings many cached objects hold alike are one instance; long ones are left alone. */
  @Test
  void repeatedStringsAreHeldOnce() {
    var users = new SftpUserStore();
    var a = UserFixtures.keyUser(new String("tenants"), "a", new String("files"), "ssh-ed25519 AAAA");
    var b = UserFixtures.keyUser(new String("tenants"), "b", new String("files"), "ssh-ed25519 AAAA");
    users.put("tenants/a", a);
    users.put("tenants/b", b);
    assertThat(users.get("tenants/a").getMetadata().getNamespace()).isSameAs(users.get("tenants/b").getMetadata().getNamespace());
    assertThat(users.get("tenants/a").getSpec().gateway.name).isSameAs(users.get("tenants/b").getSpec().gateway.name);
    String longer = "x".repeat(300);
    assertThat(SlimStore.shared(new String(longer))).isNotSameAs(SlimStore.shared(new String(longer)));
  }
}
