package dev.sftp.operator.status;

import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserStatus;
import java.util.Objects;

/** Reading and comparing an SftpUser's status: for reporting only, never for rendering. */
public final class UserStatuses {
  private UserStatuses() {}

  /** Whether the user's status says Ready=True. */
  public static boolean ready(SftpUser u) {
    return u.getStatus() != null && u.getStatus().conditions != null
        && u.getStatus().conditions.stream().anyMatch(c -> c.getType().equals(Conditions.READY) && "True".equals(c.getStatus()));
  }

  /** Whether two statuses say the same, transition times aside. */
  public static boolean same(SftpUserStatus a, SftpUserStatus b) {
    return a != null && b != null && Objects.equals(a.observedGeneration, b.observedGeneration)
        && Conditions.sameIgnoringTime(a.conditions, b.conditions)
        && Objects.equals(a.keyFingerprints, b.keyFingerprints) && Objects.equals(a.connection, b.connection)
        && Objects.equals(a.usage, b.usage);
  }

  /** Whether a reason means a failure (a Warning event) rather than a state chosen or passing. */
  public static boolean failing(String reason) {
    return reason != null && !reason.equals(Reasons.DISABLED) && !reason.equals(Reasons.EXPIRED) && !reason.equals(Reasons.PASSWORD_HASHING);
  }
}
