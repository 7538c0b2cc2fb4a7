package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** How an upload reaches its name on the volume. */
public enum UploadMode {
  /**
   * Written in place under its final name, as OpenSSH's sftp-server does: an interrupted upload
   * leaves what arrived, and the client can resume it ({@code reput}, WinSCP's resume).
   */
  RESUME("Resume"),
  /**
   * Written to a hidden temporary name in the same folder and renamed to its final name when the
   * client closes it successfully; a failed or interrupted upload leaves nothing under the final
   * name. Resuming, appending or changing a file in place is refused.
   */
  ATOMIC("Atomic");

  private final String wire;

  UploadMode(String wire) {
    this.wire = wire;
  }

  @JsonValue
  public String wireName() {
    return wire;
  }

  @JsonCreator
  public static UploadMode fromWire(String value) {
    for (UploadMode m : values()) {
      if (m.wire.equals(value)) {
        return m;
      }
    }
    throw new IllegalArgumentException("unknown uploadMode '" + value + "' (expected Resume or Atomic)");
  }
}
