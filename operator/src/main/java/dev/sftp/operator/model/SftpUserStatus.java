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
}
