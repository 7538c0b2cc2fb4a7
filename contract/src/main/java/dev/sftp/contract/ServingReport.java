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
 * @param usage what the homes of users with a quota hold, by user name, as this pod counted them:
 *     only the users whose usage changed since the pod's previous report (at most {@link
 *     #MAX_USAGE} of them; the others follow in the next report)
 */
@com.fasterxml.jackson.annotation.JsonInclude(com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY)
public record ServingReport(Map<String, String> userLists, String at, Map<String, HomeUsage> usage) {
  /** The most users one report carries usage for. */
  public static final int MAX_USAGE = 1000;
  /**
   * The largest report the operator reads: 16 lists take ~600 bytes, {@link #MAX_USAGE} usage
   * entries ~60 KiB; anything far larger is junk.
   */
  public static final int MAX_CHARS = 128 * 1024;

  /** A home's usage: the sizes of its files, and its files (anything not a directory). */
  public record HomeUsage(long bytes, long files) {}

  public ServingReport {
    userLists = userLists == null ? Map.of() : Map.copyOf(new TreeMap<>(userLists));
    usage = usage == null ? Map.of() : Map.copyOf(new TreeMap<>(usage));
  }

  public ServingReport(Map<String, String> userLists, String at) {
    this(userLists, at, null);
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
