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

/** Gives each session a file system rooted at its user's home, created on first login. */
public class HomeFileSystemFactory implements FileSystemFactory {
  private final UserRegistry registry;

  public HomeFileSystemFactory(UserRegistry registry) {
    this.registry = registry;
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
    if (!Files.isDirectory(home)) {
      Files.createDirectories(home, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-x---")));
    }
    return new RootedFileSystemProvider().newFileSystem(home.toRealPath(), Map.of());
  }
}
