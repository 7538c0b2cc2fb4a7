package dev.sftp.operator.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyDescription;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the operator observed. No phase: conditions and facts. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SftpGatewayStatus {
  @JsonPropertyDescription("The generation this status describes.")
  public Long observedGeneration;

  @JsonPropertyDescription("Ready, and Reconciling/Stalled while abnormal, in the Kubernetes convention.")
  public List<Condition> conditions = new ArrayList<>();

  @JsonPropertyDescription("Where clients connect: host:port.")
  public String endpoint;

  @JsonPropertyDescription("SHA256 fingerprints of the host keys, as ssh-keygen -l prints them.")
  public List<HostKeyStatus> hostKeys;

  @JsonPropertyDescription("Lines to paste into known_hosts.")
  public String knownHosts;

  @JsonPropertyDescription("Number of SftpUsers attached.")
  public Integer users;

  @JsonPropertyDescription("Number of SftpUsers that name this gateway but are not served (see their Ready condition).")
  public Integer rejectedUsers;

  /** One host key. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class HostKeyStatus {
    public String type;
    public String fingerprint;

    public HostKeyStatus() {}

    public HostKeyStatus(String type, String fingerprint) {
      this.type = type;
      this.fingerprint = fingerprint;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof HostKeyStatus h && Objects.equals(type, h.type) && Objects.equals(fingerprint, h.fingerprint);
    }

    @Override
    public int hashCode() {
      return Objects.hash(type, fingerprint);
    }
  }
}
