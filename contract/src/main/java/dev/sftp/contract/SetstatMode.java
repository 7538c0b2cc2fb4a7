package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/**
 * What the gateway does with SETSTAT/FSETSTAT (chmod, times). Some clients send it after every
 * upload and some volumes refuse it.
 */
public enum SetstatMode {
  /** Apply it; a failure or a missing {@code setstat} permission is an error to the client. */
  ENFORCE("Enforce"),
  /** Apply it when allowed and possible; report success to the client either way. */
  IGNORE_ERRORS("IgnoreErrors"),
  /** Never touch attributes; report success to the client. */
  IGNORE("Ignore");

  private final String wire;

  SetstatMode(String wire) {
    this.wire = wire;
  }

  @JsonValue
  public String wireName() {
    return wire;
  }

  @JsonCreator
  public static SetstatMode fromWire(String value) {
    for (SetstatMode m : values()) {
      if (m.wire.equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException(
        "unknown setstatMode '" + value + "' (expected Enforce, IgnoreErrors or Ignore)");
  }
}
