package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpUser;
import io.fabric8.kubernetes.api.model.Condition;

/**
 * The user controller's cache of SftpUsers (10,000 on a gateway is a case the operator is sized
 * for): every user whole, without managed fields or kubectl's last-applied copy. One instance
 * serves one informer only: {@link SftpUserReconciler#updateConfigurationFrom} drops it when the
 * operator watches a list of namespaces (an informer each).
 */
public class SftpUserStore extends SlimStore.Items<SftpUser> {
  public SftpUserStore() {
    super(u -> true, null, SftpUserStore::share);
  }

  /**
   * An SftpUser as this store keeps one (what {@link SlimStore#trim} drops gone, its common
   * strings shared), for copies held outside the informer: JOSDK's of an applied status.
   */
  static SftpUser asCached(SftpUser u) {
    share(SlimStore.trim(u));
    return u;
  }

  /** Makes the strings that many users hold alike ({@link SlimStore#shared}) one instance each. */
  static void share(SftpUser u) {
    if (u.getSpec() != null && u.getSpec().gateway != null) {
      u.getSpec().gateway.name = SlimStore.shared(u.getSpec().gateway.name);
      u.getSpec().gateway.namespace = SlimStore.shared(u.getSpec().gateway.namespace);
    }
    if (u.getSpec() != null && u.getSpec().password != null && u.getSpec().password.secretKeyRef != null) {
      u.getSpec().password.secretKeyRef.key = SlimStore.shared(u.getSpec().password.secretKeyRef.key);
    }
    if (u.getStatus() != null && u.getStatus().conditions != null) {
      for (Condition c : u.getStatus().conditions) {
        c.setType(SlimStore.shared(c.getType()));
        c.setStatus(SlimStore.shared(c.getStatus()));
        c.setReason(SlimStore.shared(c.getReason()));
        c.setLastTransitionTime(SlimStore.shared(c.getLastTransitionTime()));
        c.setMessage(SlimStore.shared(c.getMessage()));
        c.setAdditionalProperties(SlimStore.empty(c.getAdditionalProperties()));
      }
    }
  }
}
