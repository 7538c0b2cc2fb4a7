package dev.sftp.gateway.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.gateway.audit.AuditLog;
import java.util.Set;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.SftpEventListener;

/**
 * Lets through only the SFTP extensions whose file access goes through the confined accessor.
 * Hard links and the server-side hashing extensions are refused.
 */
public class ExtensionPolicy implements SftpEventListener {
  static final Set<String> ALLOWED =
      Set.of(
          "posix-rename@openssh.com",
          "statvfs@openssh.com",
          "fstatvfs@openssh.com",
          "fsync@openssh.com",
          "lsetstat@openssh.com",
          "limits@openssh.com",
          "expand-path@openssh.com",
          "home-directory",
          "copy-file",
          "copy-data",
          "space-available",
          "version-select");

  @Override
  public void receivedExtension(ServerSession session, String extension, int id) {
    if (!ALLOWED.contains(extension)) {
      ObjectNode e = AuditLog.event("extension.refused", session);
      e.put("extension", extension);
      AuditLog.emit(e);
      throw new UnsupportedOperationException("extension " + extension + " is not supported by this server");
    }
  }
}
