package dev.sftp.contract;

import java.util.Map;
import java.util.TreeMap;

/**
 * What one gateway pod serves, written by the gateway into its gateway's serving ConfigMap (one
 * data key per pod) after every load of its users, and read by the operator: a user is Ready
 * only when every ready pod serves the user list the user was rendered into. The other half of
 * the config flow's single direction (custom resources → operator → contract → gateway): the
 * gateway tells what it has, never what it should have.
 *
 * @param userLists the {@link ConfigDirectory#listDigest} of each user list file the pod loaded,
 *     by file name
 * @param at when the pod loaded them (ISO-8601), so that the operator can tell a stale key of a
 *     pod that is gone from a pod that has not reported yet
 */
public record ServingReport(Map<String, String> userLists, String at) {
  /** The largest report the operator reads: 16 lists take ~600 bytes; anything far larger is junk. */
  public static final int MAX_CHARS = 16 * 1024;

  public ServingReport {
    userLists = userLists == null ? Map.of() : Map.copyOf(new TreeMap<>(userLists));
  }

  public String toJson() {
    return ContractJson.write(this);
  }

  /**
   * Reads a report, or null when it is not one (written by another version, cut, or by a
   * compromised pod: the worst it can do is claim what it serves for its own gateway's users).
   */
  public static ServingReport parse(String json) {
    if (json == null || json.length() > MAX_CHARS) {
      return null;
    }
    try {
      ServingReport r = ContractJson.mapper().readValue(json, ServingReport.class);
      java.time.Instant.parse(r.at());
      return r;
    } catch (Exception e) {
      return null;
    }
  }
}
