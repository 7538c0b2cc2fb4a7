package dev.sftp.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Condition;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConditionsTest {
  static final Instant T1 = Instant.parse("2026-01-01T10:00:00.750Z");
  static final Instant T2 = Instant.parse("2026-01-01T11:00:00Z");

  @Test
  void aConditionThatKeepsItsStatusKeepsItsTransitionTimeEvenWhenItsReasonChanges() {
    List<Condition> first = Conditions.merge(null, List.of(Conditions.of("Ready", false, "DeploymentCreated", "m1", 1L)), T1);
    assertThat(first.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T10:00:00Z");
    List<Condition> second = Conditions.merge(first, List.of(Conditions.of("Ready", false, "DeploymentUnavailable", "m2", 2L)), T2);
    assertThat(second.get(0).getLastTransitionTime()).isEqualTo("2026-01-01T10:00:00Z");
    assertThat(second.get(0).getReason()).isEqualTo("DeploymentUnavailable");
  }

  @Test
  void aConditionThatFlipsGetsTheNewTime() {
    List<Condition> first = Conditions.merge(null, List.of(Conditions.of("Ready", false, "X", "m", 1L)), T1);
    List<Condition> second = Conditions.merge(first, List.of(Conditions.of("Ready", true, "Available", "ok", 1L),
        Conditions.of("Stalled", true, "Y", "m", 1L)), T2);
    assertThat(second).extracting(Condition::getLastTransitionTime).containsExactly("2026-01-01T11:00:00Z", "2026-01-01T11:00:00Z");
  }

  @Test
  void sameIgnoringTimeComparesEverythingButTheTime() {
    List<Condition> a = Conditions.merge(null, List.of(Conditions.of("Ready", true, "Available", "ok", 1L)), T1);
    List<Condition> b = Conditions.merge(null, List.of(Conditions.of("Ready", true, "Available", "ok", 1L)), T2);
    assertThat(Conditions.sameIgnoringTime(a, b)).isTrue();
    assertThat(Conditions.sameIgnoringTime(a, List.of(Conditions.of("Ready", true, "Available", "ok", 2L)))).isFalse();
    assertThat(Conditions.sameIgnoringTime(a, List.of(Conditions.of("Ready", true, "Available", "other", 1L)))).isFalse();
    assertThat(Conditions.sameIgnoringTime(a, List.of())).isFalse();
    assertThat(Conditions.sameIgnoringTime(null, List.of())).isTrue();
    assertThat(Conditions.reason(a, "Ready")).isEqualTo("Available");
    assertThat(Conditions.reason(a, "Stalled")).isNull();
  }
}
