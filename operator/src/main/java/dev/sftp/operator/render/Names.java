package dev.sftp.operator.render;

import dev.sftp.operator.model.SftpGateway;
import java.util.LinkedHashMap;
import java.util.Map;

/** Names and labels of everything made for a gateway: one place, so that they never drift. */
public final class Names {
  public static final String APP = "sftp-gateway";
  public static final String MANAGED_BY = "sftp-operator";
  public static final String CONFIG_HASH = "sftp.dev/config-hash";
  public static final String GATEWAY_LABEL = "sftp.dev/gateway";

  private Names() {}

  public static String deployment(SftpGateway gw) {
    return gw.getMetadata().getName();
  }

  public static String service(SftpGateway gw) {
    return gw.getMetadata().getName();
  }

  public static String serviceAccount(SftpGateway gw) {
    return gw.getMetadata().getName();
  }

  public static String claim(SftpGateway gw) {
    if (gw.getSpec().storage != null && gw.getSpec().storage.existingClaim != null) {
      return gw.getSpec().storage.existingClaim;
    }
    return gw.getMetadata().getName() + "-data";
  }

  public static String hostKeySecret(SftpGateway gw) {
    if (gw.getSpec().hostKeys != null && gw.getSpec().hostKeys.secretName != null) {
      return gw.getSpec().hostKeys.secretName;
    }
    return gw.getMetadata().getName() + "-host-keys";
  }

  public static String configSecret(SftpGateway gw) {
    return gw.getMetadata().getName() + "-config";
  }

  /** Number of user shard Secrets of every gateway; fixed, so that the pod template never changes with users. */
  public static final int USER_SHARDS = 16;

  public static String userShardSecret(SftpGateway gw, int shard) {
    return gw.getMetadata().getName() + "-users-" + String.format("%02d", shard);
  }

  public static String userShardFile(int shard) {
    return "users-" + String.format("%02d", shard) + ".json";
  }

  public static String pdb(SftpGateway gw) {
    return gw.getMetadata().getName();
  }

  /** The recommended labels, plus the gateway's name for selection. */
  public static Map<String, String> labels(SftpGateway gw) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put("app.kubernetes.io/name", APP);
    l.put("app.kubernetes.io/instance", gw.getMetadata().getName());
    l.put("app.kubernetes.io/component", "sftp-server");
    l.put("app.kubernetes.io/part-of", APP);
    l.put("app.kubernetes.io/managed-by", MANAGED_BY);
    l.put(GATEWAY_LABEL, gw.getMetadata().getName());
    return l;
  }

  /** The labels that select the gateway's pods; never change for a gateway. */
  public static Map<String, String> selector(SftpGateway gw) {
    Map<String, String> l = new LinkedHashMap<>();
    l.put("app.kubernetes.io/name", APP);
    l.put("app.kubernetes.io/instance", gw.getMetadata().getName());
    return l;
  }
}
