package dev.sftp.operator.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed of a user. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SftpUserStatus {
  @com.fasterxml.jackson.annotation.JsonPropertyDescription("The generation this status describes.")
  public Long observedGeneration;

  @com.fasterxml.jackson.annotation.JsonPropertyDescription("Ready, in the Kubernetes convention, with a reason a person can act on.")
  public List<Condition> conditions = new ArrayList<>();

  @com.fasterxml.jackson.annotation.JsonPropertyDescription("SHA256 fingerprints of the accepted public keys.")
  public List<String> keyFingerprints;

  @com.fasterxml.jackson.annotation.JsonPropertyDescription("The command line to connect with.")
  public String connection;

  @com.fasterxml.jackson.annotation.JsonPropertyDescription("What the user's home holds, as the gateway counted it (only for users with a storage or files quota; counted from the user's first login after the gateway started).")
  public Usage usage;

  /** A home's usage as a gateway pod reported it. */
  @JsonInclude(JsonInclude.Include.NON_NULL)
  public static class Usage {
    @com.fasterxml.jackson.annotation.JsonPropertyDescription("Bytes the files of the home take.")
    public Long bytes;

    @com.fasterxml.jackson.annotation.JsonPropertyDescription("Files in the home (anything but directories).")
    public Long files;

    @com.fasterxml.jackson.annotation.JsonPropertyDescription("When the gateway pod reported it (RFC 3339).")
    public String reportedAt;

    @Override
    public boolean equals(Object o) {
      return o instanceof Usage u && java.util.Objects.equals(bytes, u.bytes) && java.util.Objects.equals(files, u.files)
          && java.util.Objects.equals(reportedAt, u.reportedAt);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(bytes, files, reportedAt);
    }
  }
}
