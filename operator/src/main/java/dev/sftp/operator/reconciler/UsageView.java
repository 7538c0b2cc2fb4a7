package dev.sftp.operator.reconciler;

import dev.sftp.contract.ServingReport;
import dev.sftp.operator.model.SftpUserStatus;
import io.fabric8.kubernetes.api.model.ConfigMap;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The homes' usage the gateway pods report in their serving ConfigMap ({@link
 * ServingReport#usage}), by login: for each login the entry of the newest report that has one. A
 * ConfigMap is parsed once per version (its reports may hold 1,000 entries each, and every user
 * reconciled looks).
 */
final class UsageView {
  private record Parsed(String resourceVersion, Map<String, SftpUserStatus.Usage> byLogin) {}

  private final Map<String, Parsed> parsed = new ConcurrentHashMap<>();

  /** The usage reported in a serving ConfigMap, by login (empty for none or a stub). */
  Map<String, SftpUserStatus.Usage> of(ConfigMap cm) {
    if (cm == null || cm.getData() == null || cm.getMetadata() == null) {
      return Map.of();
    }
    String key = cm.getMetadata().getNamespace() + "/" + cm.getMetadata().getName();
    String version = cm.getMetadata().getResourceVersion();
    Parsed p = parsed.get(key);
    if (p == null || version == null || !version.equals(p.resourceVersion())) {
      p = new Parsed(version, parse(cm.getData()));
      parsed.put(key, p);
    }
    return p.byLogin();
  }

  static Map<String, SftpUserStatus.Usage> parse(Map<String, String> data) {
    Map<String, SftpUserStatus.Usage> out = new HashMap<>();
    for (String json : data.values()) {
      ServingReport r = ServingReport.parse(json);
      if (r == null) {
        continue;
      }
      for (Map.Entry<String, ServingReport.HomeUsage> e : r.usage().entrySet()) {
        SftpUserStatus.Usage known = out.get(e.getKey());
        if (known == null || Instant.parse(known.reportedAt).isBefore(Instant.parse(r.at()))) {
          SftpUserStatus.Usage u = new SftpUserStatus.Usage();
          u.bytes = e.getValue().bytes();
          u.files = e.getValue().files();
          u.reportedAt = r.at();
          out.put(e.getKey(), u);
        }
      }
    }
    return out;
  }
}
