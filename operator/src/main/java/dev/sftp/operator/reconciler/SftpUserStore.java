package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpUser;

/**
 * The user controller's cache of SftpUsers (10,000 on a gateway is a case the operator is sized
 * for): every user whole, without managed fields or kubectl's last-applied copy. One instance
 * serves one informer only: {@link SftpUserReconciler#updateConfigurationFrom} drops it when the
 * operator watches a list of namespaces (an informer each).
 */
public class SftpUserStore extends SlimStore.Items<SftpUser> {
  public SftpUserStore() {
    super(u -> true, null, u -> { });
  }
}
