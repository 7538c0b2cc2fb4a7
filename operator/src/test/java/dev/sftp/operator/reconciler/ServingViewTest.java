package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.render.GatewayRender;
import dev.sftp.operator.render.Names;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The rendered side of "served": which rendered list holds a user's current entry, and its digest. */
class ServingViewTest {
  static final String KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS test";

  @Test
  void theDigestIsTheOneTheGatewayComputesFromTheListItLoadsAndOnlyForTheCurrentEntry() {
    SftpGateway gw = new SftpGateway();
    gw.setMetadata(new ObjectMetaBuilder().withName("files").withNamespace("ns").withUid("u1").build());
    gw.setSpec(new SftpGatewaySpec());
    UserEntry alice = UserEntry.of("alice", null, List.of(KEY));
    UserEntry bob = UserEntry.of("bob", null, List.of(KEY));
    SlimStore<Secret> own = SlimStore.whole();
    UserDirectory directory = new UserDirectory(null);
    directory.useOwnSecrets(own);
    var informer = own.informerStore();
    ServingView view = new ServingView(directory);
    assertThat(view.renderedDigest(gw, alice)).as("nothing rendered yet").isNull();

    int version = 1;
    for (Secret s : GatewayRender.userShards(gw, List.of(alice))) {
      s.getMetadata().setResourceVersion(String.valueOf(version++));
      informer.put(informer.getKey(s), s);
    }
    String file = ServingView.listFile("alice");
    Secret shard = own.get("ns/" + Names.userShardSecret(gw, GatewayRender.shardOf("alice")));
    String loaded = ConfigDirectory.listDigest(Base64.getDecoder().decode(shard.getData().get(file)));
    assertThat(view.renderedDigest(gw, alice)).isEqualTo(loaded);
    assertThat(view.renderedDigest(gw, bob)).as("not rendered").isNull();
    UserEntry changed = new UserEntry("alice", null, List.of(KEY), alice.home(), false, null, null, true, null, null, null);
    assertThat(view.renderedDigest(gw, changed)).as("rendered from an older spec").isNull();

    // Rendered again with the change: the new list's digest.
    for (Secret s : GatewayRender.userShards(gw, List.of(changed, bob))) {
      s.getMetadata().setResourceVersion(String.valueOf(version++));
      informer.put(informer.getKey(s), s);
    }
    shard = own.get("ns/" + Names.userShardSecret(gw, GatewayRender.shardOf("alice")));
    String reloaded = ConfigDirectory.listDigest(Base64.getDecoder().decode(shard.getData().get(file)));
    assertThat(reloaded).isNotEqualTo(loaded);
    assertThat(view.renderedDigest(gw, changed)).isEqualTo(reloaded);
    assertThat(view.renderedDigest(gw, alice)).isNull();
  }
}
