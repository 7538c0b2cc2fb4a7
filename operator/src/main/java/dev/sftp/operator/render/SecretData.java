package dev.sftp.operator.render;

import dev.sftp.contract.ConfigDirectory;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A Secret's data as the pod sees it, and the password hashes of rendered user shards. */
public final class SecretData {
  private SecretData() {}

  /** Data as text: {@code data} decoded, {@code stringData} (a manifest not stored yet) over it. */
  public static Map<String, String> decode(Secret s) {
    Map<String, String> out = new TreeMap<>();
    if (s.getData() != null) {
      s.getData().forEach((k, v) -> out.put(k, new String(Base64.getDecoder().decode(v), StandardCharsets.UTF_8)));
    }
    if (s.getStringData() != null) {
      out.putAll(s.getStringData());
    }
    return out;
  }

  /** Data as bytes, by key, as files in a mounted Secret. */
  public static Map<String, byte[]> files(Secret s) {
    Map<String, byte[]> out = new TreeMap<>();
    if (s.getData() != null) {
      s.getData().forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
    }
    if (s.getStringData() != null) {
      s.getStringData().forEach((k, v) -> out.put(k, v.getBytes(StandardCharsets.UTF_8)));
    }
    return out;
  }

  /**
   * login → password hash of the users in rendered user lists (file name → content), read with
   * the contract's own reader: what keeps a password's hash across operator restarts.
   */
  public static Map<String, String> renderedHashes(Map<String, byte[]> userLists) {
    Map<String, String> out = new TreeMap<>();
    ConfigDirectory.users(userLists).valid().stream().filter(e -> e.passwordHash() != null).forEach(e -> out.put(e.name(), e.passwordHash()));
    return out;
  }

  /** As {@link #renderedHashes(Map)}, from the rendered shard Secrets (missing ones skipped). */
  public static Map<String, String> renderedHashes(List<Secret> shards) {
    Map<String, byte[]> lists = new TreeMap<>();
    for (Secret s : shards) {
      if (s != null) {
        lists.putAll(files(s));
      }
    }
    return renderedHashes(lists);
  }
}
