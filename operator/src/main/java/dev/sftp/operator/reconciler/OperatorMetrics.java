package dev.sftp.operator.reconciler;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.inject.Singleton;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The operator's own gauges, beside Java Operator SDK's {@code reconciliations_*}: users rendered
 * and left out, and gateways rendered, over all gateways (no label: their number stays one series
 * each however many gateways there are). Counted at each gateway's last pass; a gateway that is
 * gone no longer counts.
 */
@Singleton
public class OperatorMetrics {
  /** By gateway (namespace/name): users rendered and users left out at its last pass. */
  private final Map<String, int[]> rendered = new ConcurrentHashMap<>();
  private volatile Supplier<Collection<String>> liveGateways = java.util.List::of;

  public OperatorMetrics(MeterRegistry registry) {
    Gauge.builder("sftp.operator.users.rendered", this, m -> m.sum(0))
        .description("Users rendered into their gateways' contract, over all gateways").register(registry);
    Gauge.builder("sftp.operator.users.rejected", this, m -> m.sum(1))
        .description("Users left out of their gateways' contract (their status says why), over all gateways").register(registry);
    Gauge.builder("sftp.operator.gateways", this, m -> m.live().size())
        .description("Gateways rendered").register(registry);
  }

  /** The gateways that exist now (namespace/name), from the controller's cache. */
  void liveGateways(Supplier<Collection<String>> keys) {
    liveGateways = keys;
  }

  void rendered(String gatewayKey, int users, int rejected) {
    rendered.put(gatewayKey, new int[] {users, rejected});
  }

  private Collection<String> live() {
    Collection<String> keys = liveGateways.get();
    rendered.keySet().retainAll(keys);
    return rendered.keySet();
  }

  private double sum(int column) {
    long n = 0;
    for (String k : live()) {
      int[] v = rendered.get(k);
      if (v != null) {
        n += v[column];
      }
    }
    return n;
  }
}
