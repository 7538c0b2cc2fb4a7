package dev.sftp.gateway.fs;

import dev.sftp.gateway.users.GatewayUser;
import dev.sftp.gateway.users.UserRegistry;
import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystem;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.apache.sshd.common.file.FileSystemFactory;
import org.apache.sshd.common.file.root.RootedFileSystemProvider;
import org.apache.sshd.common.session.SessionContext;

/**
 * Gives each session a file system rooted at its user's home, created on first login (each
 * missing folder made through {@link Beneath}, so a link put on the way by another program is not
 * followed). A home reached through a link on the volume is refused: its real path must be the
 * one the contract names below the data root.
 */
public class HomeFileSystemFactory implements FileSystemFactory {
  private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(HomeFileSystemFactory.class.getName());
  private final UserRegistry registry;
  private final Beneath beneath;
  private final Quotas quotas;

  /** @param quotas the homes' usage: a home of a user with a quota is counted from the login on */
  public HomeFileSystemFactory(UserRegistry registry, Beneath beneath, Quotas quotas) {
    this.registry = registry;
    this.beneath = beneath;
    this.quotas = quotas;
  }

  @Override
  public Path getUserHomeDir(SessionContext session) throws IOException {
    return null; // the rooted file system's "/" is the home
  }

  @Override
  public FileSystem createFileSystem(SessionContext session) throws IOException {
    GatewayUser u = registry.get(session.getUsername());
    if (u == null) {
      throw new AccessDeniedException("user no longer exists");
    }
    Path home = u.home();
    if (!Files.isDirectory(home, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      Path root = beneath.dataRoot();
      Path made = root;
      for (Path name : root.relativize(home)) {
        made = made.resolve(name.toString());
        try (Beneath.At at = beneath.at(made)) {
          Files.createDirectory(at.path(), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
        } catch (java.nio.file.FileAlreadyExistsException exists) {
          // made before (or by someone else): checked below
        }
      }
    }
    Path real = home.toRealPath();
    if (!real.equals(home)) {
      LOG.warning("refused a login of " + u.name() + ": the home is reached through a link on the volume (not followed)");
      throw new AccessDeniedException("home is reached through a link");
    }
    if (u.limits().hasQuota()) {
      quotas.prepare(u.home());
    }
    return new RootedFileSystemProvider().newFileSystem(real, Map.of());
  }
}
