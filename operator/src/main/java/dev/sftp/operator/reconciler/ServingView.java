package dev.sftp.operator.reconciler;

import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.ContractJson;
import dev.sftp.contract.ServingReport;
import dev.sftp.contract.UserEntry;
import dev.sftp.contract.UserList;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.render.GatewayRender;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.status.Serving;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the user controller reads to judge {@link Serving}: the user lists the operator rendered
 * (the gateway controller's cache of its own Secrets, indexed once per Secret version), the
 * gateway's pods and the reports in its serving ConfigMap.
 */
final class ServingView {
  private final UserDirectory directory;
  /** {@code namespace/secret} → the rendered list's digest and its entries' digests. */
  private final Map<String, ListIndex> lists = new ConcurrentHashMap<>();

  private record ListIndex(String resourceVersion, String digest, Map<String, Long> entries) {}

  ServingView(UserDirectory directory) {
    this.directory = directory;
  }

  /** The rendered user list a login belongs in. */
  static String listFile(String login) {
    return Names.userShardFile(GatewayRender.shardOf(login));
  }

  /**
   * The digest of the rendered user list that holds {@code entry} as it is now, or null when the
   * rendered list does not hold it (not rendered yet, or rendered from an older spec or Secret).
   */
  String renderedDigest(SftpGateway gw, UserEntry entry) {
    int shard = GatewayRender.shardOf(entry.name());
    String key = gw.getMetadata().getNamespace() + "/" + Names.userShardSecret(gw, shard);
    Secret s = directory.ownSecret(key);
    if (s == null || s.getData() == null) {
      lists.remove(key);
      return null;
    }
    String rv = s.getMetadata().getResourceVersion();
    ListIndex index = lists.get(key);
    if (index == null || !index.resourceVersion().equals(rv)) {
      index = index(s, Names.userShardFile(shard));
      if (index == null) {
        return null;
      }
      lists.put(key, index);
    }
    Long rendered = index.entries().get(entry.name());
    return rendered != null && rendered == entryDigest(entry) ? index.digest() : null;
  }

  private static ListIndex index(Secret s, String file) {
    String b64 = s.getData().get(file);
    if (b64 == null) {
      return null;
    }
    byte[] bytes = Base64.getDecoder().decode(b64);
    Map<String, Long> entries = new HashMap<>();
    try {
      for (UserEntry e : ContractJson.mapper().readValue(bytes, UserList.class).users()) {
        entries.put(e.name(), entryDigest(e));
      }
    } catch (java.io.IOException e) {
      return null;
    }
    return new ListIndex(s.getMetadata().getResourceVersion(), ConfigDirectory.listDigest(bytes), entries);
  }

  /** 64 bits of SHA-256 over the entry as the contract writes it. */
  static long entryDigest(UserEntry e) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(ContractJson.write(e).getBytes(StandardCharsets.UTF_8));
      return ByteBuffer.wrap(d).getLong();
    } catch (java.security.NoSuchAlgorithmException ex) {
      throw new IllegalStateException(ex);
    }
  }

  /**
   * The gateway's pods with what each reports.
   *
   * @param pods the gateway's pods (from the label-filtered pod cache)
   * @param servingConfigMap the gateway's serving ConfigMap, or null
   */
  static List<Serving.Pod> pods(List<Pod> pods, ConfigMap servingConfigMap) {
    Map<String, String> data = servingConfigMap == null || servingConfigMap.getData() == null ? Map.of() : servingConfigMap.getData();
    List<Serving.Pod> out = new ArrayList<>();
    for (Pod p : pods) {
      out.add(new Serving.Pod(p.getMetadata().getName(), ready(p), ServingReport.parse(data.get(p.getMetadata().getName()))));
    }
    return out;
  }

  /** Whether a pod takes connections: Ready and not terminating. */
  static boolean ready(Pod p) {
    return p.getMetadata().getDeletionTimestamp() == null && p.getStatus() != null && p.getStatus().getConditions() != null
        && p.getStatus().getConditions().stream().anyMatch(c -> "Ready".equals(c.getType()) && "True".equals(c.getStatus()));
  }
}
