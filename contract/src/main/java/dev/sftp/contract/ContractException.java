package dev.sftp.contract;

import java.util.List;

/** A contract document that cannot be used at all; carries every error found. */
public class ContractException extends Exception {
  private final List<ValidationError> errors;

  public ContractException(String source, List<ValidationError> errors) {
    super(describe(source, errors));
    this.errors = List.copyOf(errors);
  }

  public List<ValidationError> errors() {
    return errors;
  }

  private static String describe(String source, List<ValidationError> errors) {
    StringBuilder sb = new StringBuilder(source).append(" is not a valid gateway document:");
    for (ValidationError e : errors) {
      sb.append("\n  ").append(e);
    }
    return sb.toString();
  }
}
