package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The PROXY protocol (v1 and v2, as HAProxy, AWS NLB and others send it): the client's own
 * address, told by a load balancer in front of the gateway.
 *
 * @param mode {@code Off} (default): no header is read; {@code Optional}: a connection from a
 *     trusted source may start with a header; {@code Enforced}: a connection from a trusted source
 *     must start with one, and a connection from any other source is refused
 * @param trustedCidrs the load balancers' addresses: only their headers are believed (required
 *     when the mode is not {@code Off})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ProxyProtocolSettings(String mode, List<String> trustedCidrs) {
  public static final String OFF = "Off";
  public static final String OPTIONAL = "Optional";
  public static final String ENFORCED = "Enforced";

  public String modeOrDefault() {
    return mode == null ? OFF : mode;
  }

  public List<String> trustedCidrsOrDefault() {
    return trustedCidrs == null ? List.of() : trustedCidrs;
  }
}
