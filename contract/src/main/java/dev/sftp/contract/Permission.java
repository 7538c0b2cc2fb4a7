package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;

/** One thing a user may do on a path of their home. Serialised in lower case ({@code "read"}). */
public enum Permission {
  /** List directory contents. */
  LIST,
  /** Open a file for reading (download). */
  READ,
  /** Create or overwrite a file (upload, resume). */
  WRITE,
  /** Remove files and empty directories. */
  DELETE,
  /** Rename or move files and directories. */
  RENAME,
  /** Create directories. */
  MKDIR,
  /** Change modes and times ({@code chmod}, {@code sftp -p}). */
  SETSTAT,
  /** Create symbolic links (always confined to the home). */
  SYMLINK;

  /** Every permission: the default for a user with no explicit list. */
  public static final Set<Permission> ALL = EnumSet.allOf(Permission.class);

  /** What a read-only user keeps. */
  public static final Set<Permission> READ_ONLY = EnumSet.of(LIST, READ);

  @JsonValue
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses the wire name; throws {@link IllegalArgumentException} naming the valid values. */
  @JsonCreator
  public static Permission fromWire(String value) {
    for (Permission p : values()) {
      if (p.wireName().equals(value)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown permission '" + value + "' (expected one of " + allWireNames() + ")");
  }

  static String allWireNames() {
    StringBuilder sb = new StringBuilder();
    for (Permission p : values()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(p.wireName());
    }
    return sb.toString();
  }
}
