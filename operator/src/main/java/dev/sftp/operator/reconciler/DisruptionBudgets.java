package dev.sftp.operator.reconciler;

import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.jboss.logging.Logger;

/**
 * Whether the API server serves policy/v1 PodDisruptionBudgets (Kubernetes 1.21 and later). The
 * operator supports current Kubernetes (the chart's kubeVersion); on an older server it starts
 * anyway, without the PodDisruptionBudget informer (which would fail and keep every informer
 * from starting), and says so on the gateways that would have one.
 */
final class DisruptionBudgets {
  private static final Logger LOG = Logger.getLogger(DisruptionBudgets.class);

  private DisruptionBudgets() {}

  /**
   * From the setting {@code sftp.operator.disruption-budgets}: {@code on}, {@code off}, or {@code
   * auto} (API discovery; the default).
   */
  static boolean enabled(String setting, KubernetesClient client) {
    return switch (setting) {
      case "on" -> true;
      case "off" -> false;
      case "auto" -> supported(client);
      default -> throw new IllegalArgumentException("sftp.operator.disruption-budgets must be auto, on or off, not '" + setting + "'");
    };
  }

  static boolean supported(KubernetesClient client) {
    try {
      if (client.supports(PodDisruptionBudget.class)) {
        return true;
      }
      LOG.warn("the API server does not serve policy/v1 PodDisruptionBudgets (Kubernetes 1.21+): gateways with several replicas get none");
      return false;
    } catch (RuntimeException e) {
      // Discovery failed (no rights, a flaky server): assume a current cluster, as the chart requires.
      LOG.debugf("API discovery for policy/v1 failed (%s): assuming PodDisruptionBudgets are served", e.toString());
      return true;
    }
  }
}
