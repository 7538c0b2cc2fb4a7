package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.operator.render.UserResolver;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * After a restart or a bulk apply, referenced Secrets can be stubs in the cache (they came before
 * the users that name them): past {@link UserDirectory#GETS_PER_PASS} of them in one pass, their
 * namespace is read with one paged LIST instead of a GET each.
 */
@EnableKubernetesMockClient(crud = true)
class StubListTest {
  KubernetesMockServer server;
  KubernetesClient client;

  @Test
  void manyStubsInOnePassAreReadWithOneListAndFewStubsWithAGetEach() throws Exception {
    int n = UserDirectory.GETS_PER_PASS + 8;
    SlimStore<Secret> secrets = new SlimStore<>(s -> false, m -> { Secret s = new Secret(); s.setMetadata(m); return s; });
    var informer = secrets.informerStore();
    for (int i = 0; i < n; i++) {
      Secret made = client.secrets().inNamespace("t").resource(new SecretBuilder().withNewMetadata().withName("pw-" + i).endMetadata()
          .withData(Map.of("password", Base64.getEncoder().encodeToString(("secret-" + i).getBytes(StandardCharsets.UTF_8)))).build()).create();
      informer.put("t/pw-" + i, made); // kept as a stub: no user named it when it came
      informer.put("u/pw-" + i, new SecretBuilder(made).editMetadata().withNamespace("u").endMetadata().build());
    }
    assertThat(SlimStore.isStub(secrets.get("t/pw-0"))).isTrue();
    requests(); // what the creates sent

    UserDirectory directory = new UserDirectory(client);
    UserResolver.Lookup lookup = directory.lookup(secrets, SlimStore.<ConfigMap>whole());
    for (int i = 0; i < n; i++) {
      assertThat(lookup.secret("t", "pw-" + i)).containsEntry("password", "secret-" + i);
    }
    List<String> sent = requests();
    assertThat(sent).filteredOn(p -> p.startsWith("GET /api/v1/namespaces/t/secrets?") && p.contains("limit=500")).hasSize(1);
    assertThat(sent).filteredOn(p -> p.startsWith("GET /api/v1/namespaces/t/secrets/")).hasSize(UserDirectory.GETS_PER_PASS);
    assertThat(SlimStore.isStub(secrets.get("t/pw-" + (n - 1)))).isFalse();

    // A pass that meets a few stubs reads them one by one.
    UserResolver.Lookup next = directory.lookup(secrets, SlimStore.<ConfigMap>whole());
    for (int i = 0; i < 3; i++) {
      next.secret("u", "pw-" + i);
    }
    sent = requests();
    assertThat(sent).noneMatch(p -> p.contains("limit=500"));
    assertThat(sent).filteredOn(p -> p.startsWith("GET /api/v1/namespaces/u/secrets/")).hasSize(3);
  }

  private List<String> requests() throws InterruptedException {
    List<String> out = new ArrayList<>();
    var r = server.takeRequest(50, TimeUnit.MILLISECONDS);
    while (r != null) {
      out.add(r.getMethod() + " " + r.getPath());
      r = server.takeRequest(50, TimeUnit.MILLISECONDS);
    }
    return out;
  }
}
