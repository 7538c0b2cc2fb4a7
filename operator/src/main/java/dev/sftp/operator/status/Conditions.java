package dev.sftp.operator.status;

import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConditionBuilder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Kubernetes-convention conditions, keeping lastTransitionTime while the status holds. */
public final class Conditions {
  public static final String READY = "Ready";
  /** An SftpUser rendered into its gateway's contract (Ready: and served by every ready pod). */
  public static final String ACCEPTED = "Accepted";
  public static final String RECONCILING = "Reconciling";
  public static final String STALLED = "Stalled";

  private Conditions() {}

  public static Condition of(String type, boolean status, String reason, String message, Long generation) {
    return new ConditionBuilder().withType(type).withStatus(status ? "True" : "False").withReason(reason)
        .withMessage(message).withObservedGeneration(generation).build();
  }

  /**
   * The new list with transition times: a condition whose status did not change keeps its old
   * time; others get {@code now}.
   */
  public static List<Condition> merge(List<Condition> previous, List<Condition> next, Instant now) {
    List<Condition> out = new ArrayList<>();
    for (Condition c : next) {
      Condition old = previous == null ? null : previous.stream().filter(p -> p.getType().equals(c.getType())).findFirst().orElse(null);
      c.setLastTransitionTime(old != null && Objects.equals(old.getStatus(), c.getStatus()) && old.getLastTransitionTime() != null
          ? old.getLastTransitionTime() : now.truncatedTo(ChronoUnit.SECONDS).toString());
      out.add(c);
    }
    return out;
  }

  /** The condition of a type, or null. */
  public static Condition find(List<Condition> conditions, String type) {
    return conditions == null ? null : conditions.stream().filter(c -> type.equals(c.getType())).findFirst().orElse(null);
  }

  /** The reason of the condition of a type, or null. */
  public static String reason(List<Condition> conditions, String type) {
    if (conditions == null) {
      return null;
    }
    return conditions.stream().filter(c -> type.equals(c.getType())).map(Condition::getReason).findFirst().orElse(null);
  }

  /** Equal but for transition times. */
  public static boolean sameIgnoringTime(List<Condition> a, List<Condition> b) {
    if (a == null || b == null || a.size() != b.size()) {
      return a == b || (a == null && b.isEmpty()) || (b == null && a.isEmpty());
    }
    for (int i = 0; i < a.size(); i++) {
      Condition x = a.get(i);
      Condition y = b.get(i);
      if (!Objects.equals(x.getType(), y.getType()) || !Objects.equals(x.getStatus(), y.getStatus())
          || !Objects.equals(x.getReason(), y.getReason()) || !Objects.equals(x.getMessage(), y.getMessage())
          || !Objects.equals(x.getObservedGeneration(), y.getObservedGeneration())) {
        return false;
      }
    }
    return true;
  }
}
