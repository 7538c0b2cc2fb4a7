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

  @Test
  void aReferencedObjectIsKeptWholeWithoutManagedFieldsOrTheLastAppliedCopy() {
    referenced.add("a");
    store.put(store.getKey(secret("a", "1")), secret("a", "1"));
    Secret a = store.get("t/a");
    assertThat(SlimStore.isStub(a)).isFalse();
    assertThat(a.getData()).containsEntry("password", "c2VjcmV0");
    assertThat(a.getMetadata().getManagedFields()).isNull();
    assertThat(a.getMetadata().getAnnotations()).containsOnlyKeys("keep");
  }

  @Test
  void anUnreferencedObjectIsAStubThatKeepsItsVersionAndIsUpgradedOnlyToThatVersion() {
    store.put("t/b", secret("b", "1"));
    Secret b = store.get("t/b");
    assertThat(SlimStore.isStub(b)).isTrue();
    assertThat(b.getData()).isNullOrEmpty();
    assertThat(b.getMetadata().getResourceVersion()).isEqualTo("1");
    assertThat(b.getMetadata().getUid()).isEqualTo("uid-b");
    // A GET that returned an older version than the informer has since seen does not win.
    store.put("t/b", secret("b", "2"));
    assertThat(SlimStore.isStub(store.upgrade(secret("b", "1")))).isTrue();
    Secret up = store.upgrade(secret("b", "2"));
    assertThat(SlimStore.isStub(up)).isFalse();
    assertThat(up.getData()).containsKey("password");
    assertThat(store.get("t/b").getMetadata().getManagedFields()).isNull();
    // Gone from the cluster: nothing to upgrade.
    store.remove("t/b");
    assertThat(store.upgrade(secret("b", "2"))).isNull();
    assertThat(store.size()).isZero();
  }

  @Test
  void aStoreCanDropMoreOfWhatItsReadersNeverRead() {
    SlimStore<Secret> noData = new SlimStore<>(s -> true, null, s -> s.setData(null));
    noData.put("t/c", secret("c", "1"));
    assertThat(noData.get("t/c").getData()).isNull();
    assertThat(SlimStore.isStub(noData.get("t/c"))).isFalse();
  }
}
