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

  /**
   * Two caches of the same objects (the two controllers' informers over Secrets, or over
   * SftpUsers) hold one instance of an object at one version; a newer version is not replaced by
   * an older twin, and a stub is never taken as a twin.
   */
  @Test
  void twinCachesHoldOneInstanceOfAnObjectAtOneVersion() {
    var twins = new SlimStore.Twins<Secret>();
    referenced.add("a");
    store.sharing(twins);
    var mine = store.informerStore();
    var users = new SftpUserStore();
    var other = new SlimStore<Secret>(s -> true, null).sharing(twins);
    var theirs = other.informerStore();
    mine.put("t/a", secret("a", "1"));
    theirs.put("t/a", secret("a", "1"));
    assertThat(other.get("t/a")).isSameAs(store.get("t/a"));
    // A new version seen first by the other informer: its own copy, until this one catches up.
    theirs.put("t/a", secret("a", "2"));
    assertThat(other.get("t/a")).isNotSameAs(store.get("t/a"));
    assertThat(store.get("t/a").getMetadata().getResourceVersion()).isEqualTo("1");
    mine.put("t/a", secret("a", "2"));
    assertThat(store.get("t/a")).isSameAs(other.get("t/a"));
    // Same name, another object (deleted and made again): not a twin.
    Secret again = secret("a", "2");
    again.getMetadata().setUid("another");
    theirs.put("t/a", again);
    assertThat(other.get("t/a").getMetadata().getUid()).isEqualTo("another");
    assertThat(store.get("t/a").getMetadata().getUid()).isEqualTo("uid-a");
    // Where this cache keeps a stub, the other's whole object is not taken from it, nor given to it.
    theirs.put("t/b", secret("b", "1"));
    mine.put("t/b", secret("b", "1"));
    assertThat(SlimStore.isStub(store.get("t/b"))).isTrue();
    assertThat(SlimStore.isStub(other.get("t/b"))).isFalse();
    // The single-informer user store joins the same way.
    var userTwins = new SlimStore.Twins<dev.sftp.operator.model.SftpUser>();
    users.sharing(userTwins);
    var gatewaySide = new SlimStore<dev.sftp.operator.model.SftpUser>(u -> true, null, SftpUserStore::share).sharing(userTwins);
    var u1 = UserFixtures.keyUser("tenants", "a", "files", "ssh-ed25519 AAAA");
    u1.getMetadata().setUid("u1");
    u1.getMetadata().setResourceVersion("7");
    gatewaySide.informerStore().put("tenants/a", u1);
    var u1again = UserFixtures.keyUser("tenants", "a", "files", "ssh-ed25519 AAAA");
    u1again.getMetadata().setUid("u1");
    u1again.getMetadata().setResourceVersion("7");
    users.put("tenants/a", u1again);
    assertThat(users.get("tenants/a")).isSameAs(u1);
  }

  /** The empty maps and lists of every cached object are the JDK's shared ones; the rest is kept. */
  @Test
  void emptyCollectionsAreSharedAndTheRestKept() {
    referenced.add("a");
    Secret a = secret("a", "1");
    a.getMetadata().setLabels(new java.util.LinkedHashMap<>());
    informer.put("t/a", a);
    Secret held = store.get("t/a");
    assertThat(held.getMetadata().getLabels()).isSameAs(Map.of());
    assertThat(held.getMetadata().getAdditionalProperties()).isSameAs(Map.of());
    assertThat(held.getMetadata().getFinalizers()).isSameAs(java.util.List.of());
    assertThat(held.getMetadata().getOwnerReferences()).isSameAs(java.util.List.of());
    assertThat(held.getStringData()).isSameAs(Map.of());
    assertThat(held.getAdditionalProperties()).isSameAs(Map.of());
    assertThat(held.getMetadata().getAnnotations()).containsExactly(Map.entry("keep", "me"));
    assertThat(held.getData()).containsEntry("password", "c2VjcmV0");
  }
}
