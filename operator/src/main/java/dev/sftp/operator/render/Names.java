package dev.sftp.operator.render;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import java.util.LinkedHashMap;
import java.util.Map;

/** Names and labels of everything made for a gateway: one place, so that they never drift. */
public final class Names {
  public static final String APP = "sftp-gateway";
  public static final String MANAGED_BY = "sftp-operator";
  public static final String CONFIG_HASH = "sftp.dev/config-hash";
  public static final String GATEWAY_LABEL = "sftp.dev/gateway";
  /** What the gateway's JVM must open for the kernel-checked paths (gateway fs.Beneath). */
  public static final String GATEWAY_JAVA_OPENS = "--add-opens=java.base/sun.nio.fs=ALL-UNNAMED";

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
    return gw.getMetadata().getName() + USER_SHARD_INFIX + String.format("%02d", shard);
  }

  /** The contract file of a user shard Secret (the contract owns the name). */
  public static String userShardFile(int shard) {
    return dev.sftp.contract.ConfigDirectory.userListFile(shard);
  }

  /** Whether a Secret name is one of a gateway's user shards. */
  public static boolean isUserShardSecret(String gatewayName, String secretName) {
    return secretName.startsWith(gatewayName + USER_SHARD_INFIX)
        && secretName.length() == gatewayName.length() + USER_SHARD_INFIX.length() + 2;
  }

  private static final String USER_SHARD_INFIX = "-users-";

  /** The namespace of the gateway a user names: its own unless spec.gateway.namespace says otherwise. */
  public static String gatewayNamespace(SftpUser u) {
    return u.getSpec().gateway.namespace == null ? u.getMetadata().getNamespace() : u.getSpec().gateway.namespace;
  }

  /** {@code namespace/name} of the gateway a user names, or null when it names none. */
  public static String gatewayKey(SftpUser u) {
    return u.getSpec() == null || u.getSpec().gateway == null ? null : gatewayNamespace(u) + "/" + u.getSpec().gateway.name;
  }

  /** {@code namespace/name} of a gateway. */
  public static String gatewayKey(SftpGateway gw) {
    return gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName();
  }

  /** The ConfigMap the gateway's pods report what they serve into ({@link dev.sftp.contract.ServingReport}). */
  public static String servingConfigMap(SftpGateway gw) {
    return servingConfigMap(gw.getMetadata().getName());
  }

  /** The serving ConfigMap of the gateway of this name (in the gateway's namespace). */
  public static String servingConfigMap(String gatewayName) {
    return gatewayName + SERVING_SUFFIX;
  }

  /**
   * The gateway whose serving ConfigMap this is ({@code namespace/name}), or null: named {@code
   * <gateway>-serving} and labelled as the operator labels it.
   */
  public static String servingGatewayKey(io.fabric8.kubernetes.api.model.HasMetadata cm) {
    Map<String, String> l = cm.getMetadata().getLabels();
    String gw = l == null || !MANAGED_BY.equals(l.get("app.kubernetes.io/managed-by")) ? null : l.get(GATEWAY_LABEL);
    return gw != null && cm.getMetadata().getName().equals(gw + SERVING_SUFFIX) ? cm.getMetadata().getNamespace() + "/" + gw : null;
  }

  private static final String SERVING_SUFFIX = "-serving";

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
