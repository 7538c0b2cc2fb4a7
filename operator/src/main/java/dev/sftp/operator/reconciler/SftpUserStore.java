package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpUser;

/**
 * The user controller's cache of SftpUsers (10,000 on a gateway is a case the operator is sized
 * for): every user whole, without managed fields or kubectl's last-applied copy.
 */
public class SftpUserStore extends SlimStore<SftpUser> {
  public SftpUserStore() {
    super(u -> true, null);
  }
}
