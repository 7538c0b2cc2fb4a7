package dev.sftp.operator.status;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.ServingReport;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServingTest {
  static ServingReport report(String file, String digest) {
    return new ServingReport(Map.of(file, digest), "2026-12-03T08:00:00Z");
  }

  @Test
  void notRenderedYetWaitsForTheOperator() {
    Serving.Verdict v = Serving.judge("ns/gw", "users-03.json", () -> null, List.of(new Serving.Pod("a", true, report("users-03.json", "d1"))));
    assertThat(v.served()).isFalse();
    assertThat(v.reason()).isEqualTo(Reasons.RENDER_PENDING);
  }

  @Test
  void noReadyPodMeansNobodyServes() {
    Serving.Verdict v = Serving.judge("ns/gw", "users-03.json", () -> "d1", List.of(new Serving.Pod("a", false, report("users-03.json", "d1"))));
    assertThat(v.served()).isFalse();
    assertThat(v.reason()).isEqualTo(Reasons.GATEWAY_UNAVAILABLE);
    // Without a ready pod the rendered lists are not even read (no parsing while nothing serves).
    assertThat(Serving.judge("ns/gw", "users-03.json", () -> {
      throw new AssertionError("read the rendered list without a ready pod");
    }, List.of()).reason()).isEqualTo(Reasons.GATEWAY_UNAVAILABLE);
  }

  @Test
  void everyReadyPodMustServeTheRenderedDigestOfTheUsersList() {
    List<Serving.Pod> pods = List.of(
        new Serving.Pod("a", true, report("users-03.json", "d2")),
        new Serving.Pod("b", true, report("users-03.json", "d1")),
        new Serving.Pod("c", true, null),
        new Serving.Pod("d", true, report("users-04.json", "d2")),
        new Serving.Pod("e", false, null));
    Serving.Verdict v = Serving.judge("ns/gw", "users-03.json", () -> "d2", pods);
    assertThat(v.served()).isFalse();
    assertThat(v.reason()).isEqualTo(Reasons.LOAD_PENDING);
    assertThat(v.message()).contains("1 of 4 ready pods").contains("waiting for b, c, d)");

    v = Serving.judge("ns/gw", "users-03.json", () -> "d2", List.of(pods.get(0), pods.get(4)));
    assertThat(v.served()).isTrue();
    assertThat(v.reason()).isEqualTo(Reasons.SERVED);
    assertThat(v.message()).contains("the ready pod of gateway ns/gw serves it");
  }

  @Test
  void aReportThatIsNotOneCountsAsNothing() {
    assertThat(ServingReport.parse("{\"userLists\":{},\"at\":\"yesterday\"}")).isNull();
    assertThat(ServingReport.parse("not json")).isNull();
    assertThat(ServingReport.parse("{\"userLists\":{\"users-00.json\":\"ab\"},\"at\":\"2026-12-03T08:00:00Z\",\"extra\":1}")).isNull();
    assertThat(ServingReport.parse("x".repeat(ServingReport.MAX_CHARS + 1))).isNull();
    ServingReport r = new ServingReport(Map.of("users-00.json", "ab"), "2026-12-03T08:00:00Z");
    assertThat(ServingReport.parse(r.toJson())).isEqualTo(r);
  }
}
