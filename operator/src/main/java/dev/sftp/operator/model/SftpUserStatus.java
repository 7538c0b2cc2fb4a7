package dev.sftp.operator.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import io.fabric8.kubernetes.api.model.Condition;
import java.util.ArrayList;
import java.util.List;

/** What the operator observed of a user. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public class SftpUserStatus {
  public Long observedGeneration;
  public List<Condition> conditions = new ArrayList<>();
  public List<String> keyFingerprints;
  public String connection;
}
