package dev.sftp.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.UserList;
import dev.sftp.operator.model.SftpGateway;
import io.fabric8.kubernetes.api.model.Secret;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** 10,000 users of one gateway fit the Secrets, and one user's change rewrites one shard. */
class ScaleRenderTest {
  static List<UserEntry> users(int n, String hash) {
    String key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE3VYcqwKsXNoLBjlUEBQAIcixElPaiFkxYhqZOmUmnS tenant@laptop";
    List<UserEntry> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String name = "tenant-" + i;
      out.add(new UserEntry(name, hash, List.of(key), "team-" + (i % 100) + "/" + name, false, null, List.of("10.0.0.0/8"), false, null, null, null));
    }
    return out;
  }

  @Test
  void tenThousandUsersFitTheSecretLimitAndChangesStayInOneShard() throws Exception {
    SftpGateway gw = GatewayRenderTest.gateway();
    List<UserEntry> users = users(10_000, PasswordHashes.hashArgon2id("x"));
    long t0 = System.nanoTime();
    List<Secret> shards = GatewayRender.userShards(gw, users);
    long ms = (System.nanoTime() - t0) / 1_000_000;
    long total = 0;
    long largest = 0;
    int count = 0;
    for (Secret s : shards) {
      long bytes = s.getData().values().stream().mapToLong(v -> Base64.getDecoder().decode(v).length).sum();
      // The API server's limit is 1 MiB of data per Secret.
      assertThat(bytes).isLessThan(1024 * 1024);
      largest = Math.max(largest, bytes);
      total += bytes;
      for (String v : s.getData().values()) {
        count += ContractJson.mapper().readValue(Base64.getDecoder().decode(v), UserList.class).users().size();
      }
    }
    assertThat(count).isEqualTo(10_000);
    System.out.printf("10000 users: %d Secrets, %d bytes in all, largest %d bytes, rendered in %d ms%n", shards.size(), total, largest, ms);

    // Changing one user changes exactly one shard.
    List<UserEntry> changed = new ArrayList<>(users);
    UserEntry u = changed.get(4242);
    changed.set(4242, new UserEntry(u.name(), u.passwordHash(), u.authorizedKeys(), u.home(), true, null, null, false, null, null, null));
    List<Secret> after = GatewayRender.userShards(gw, changed);
    Set<Integer> differing = new HashSet<>();
    for (int i = 0; i < shards.size(); i++) {
      if (!shards.get(i).equals(after.get(i))) {
        differing.add(i);
      }
    }
    assertThat(differing).containsExactly(GatewayRender.shardOf("tenant-4242"));
  }
}
