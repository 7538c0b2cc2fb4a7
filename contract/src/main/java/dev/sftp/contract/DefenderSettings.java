package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The defender: a source address that fails to authenticate too often is banned for a while,
 * and its connections are closed as soon as they are accepted, before any key exchange work.
 *
 * @param enabled default true
 * @param maxFailures failed authentications from one address within {@code windowSeconds} that
 *     ban it, default 20 (each failed password counts, and a connection whose keys were all
 *     refused counts once)
 * @param windowSeconds the window the failures are counted in, default 600
 * @param banSeconds how long a ban lasts, default 900
 * @param allowCidrs addresses never banned (monitoring, a NAT that many users share)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record DefenderSettings(Boolean enabled, Integer maxFailures, Integer windowSeconds, Integer banSeconds, List<String> allowCidrs) {
  public boolean enabledOrDefault() {
    return enabled == null || enabled;
  }

  public int maxFailuresOrDefault() {
    return maxFailures == null ? 20 : maxFailures;
  }

  public int windowSecondsOrDefault() {
    return windowSeconds == null ? 600 : windowSeconds;
  }

  public int banSecondsOrDefault() {
    return banSeconds == null ? 900 : banSeconds;
  }

  public List<String> allowCidrsOrDefault() {
    return allowCidrs == null ? List.of() : allowCidrs;
  }
}
