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

  /** Reasons of a user not Ready yet that the operator and the gateway are working through. */
  static final java.util.Set<String> PENDING = java.util.Set.of(Reasons.RENDER_PENDING, Reasons.LOAD_PENDING,
      Reasons.GATEWAY_UNAVAILABLE, Reasons.PASSWORD_HASHING);

  /**
   * The kstatus conditions that go with a user's Ready condition, so that GitOps tools tell a
   * user on its way from one that needs a person (Flux's kstatus reads Reconciling and Stalled;
   * the Argo CD health check in examples/gitops reads them too): {@code Reconciling=True} while
   * it is pending, {@code Stalled=True} when only a change can make it Ready (an invalid key, a
   * missing Secret, a login taken...), neither when it is Ready or disabled or expired by choice.
   */
  public static java.util.List<io.fabric8.kubernetes.api.model.Condition> progress(io.fabric8.kubernetes.api.model.Condition ready, Long generation) {
    String reason = ready.getReason();
    if ("True".equals(ready.getStatus()) || reason == null || reason.equals(Reasons.DISABLED) || reason.equals(Reasons.EXPIRED)) {
      return java.util.List.of();
    }
    return java.util.List.of(Conditions.of(PENDING.contains(reason) ? Conditions.RECONCILING : Conditions.STALLED, true, reason, ready.getMessage(), generation));
  }

  /** Whether a reason means a failure (a Warning event) rather than a state chosen or passing. */
  public static boolean failing(String reason) {
    return reason != null && !reason.equals(Reasons.DISABLED) && !reason.equals(Reasons.EXPIRED) && !reason.equals(Reasons.PASSWORD_HASHING);
  }
}
