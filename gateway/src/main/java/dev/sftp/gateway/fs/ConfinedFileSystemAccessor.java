package dev.sftp.gateway.fs;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.Permission;
import dev.sftp.contract.SetstatMode;
import dev.sftp.gateway.audit.AuditLog;
import dev.sftp.gateway.users.GatewayUser;
import dev.sftp.gateway.users.UserRegistry;
import dev.sftp.gateway.fs.PathConfinement.Entry;
import dev.sftp.gateway.fs.PathConfinement.Kind;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.AclEntry;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.Principal;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.sshd.common.file.root.RootedFileSystem;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.DirectoryHandle;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.SftpFileSystemAccessor;
import org.apache.sshd.sftp.server.SftpSubsystemProxy;

/**
 * Where every SFTP file operation passes: confines paths to the home ({@link PathConfinement}),
 * applies the user's current permissions (read live from the registry, so a change needs no
 * reconnect), sets sane modes on what is created, and applies the gateway's setstat policy.
 */
public class ConfinedFileSystemAccessor implements SftpFileSystemAccessor {

  private final UserRegistry registry;
  private final SetstatMode setstatMode;
  private final int umask;
  public ConfinedFileSystemAccessor(UserRegistry registry, SetstatMode setstatMode, int umask) {
    this.registry = registry;
    this.setstatMode = setstatMode;
    this.umask = umask;
  }

  // ---- path resolution and confinement ----

  @Override
  public Path resolveLocalFilePath(SftpSubsystemProxy subsystem, Path rootDir, String remotePath)
      throws IOException, InvalidPathException {
    Path p = SftpFileSystemAccessor.super.resolveLocalFilePath(subsystem, rootDir, remotePath);
    Entry e = confineEntry(p);
    RequestMemory m = RequestMemory.of(subsystem);
    if (m != null) {
      m.confined(p, e);
    }
    return p;
  }

  /** The physical path of a rooted path, refusing any that leaves the home. */
  static Path confine(Path rooted) throws IOException {
    return confineEntry(rooted).path();
  }

  private static Entry confineEntry(Path rooted) throws IOException {
    Path realHome = ((RootedFileSystem) rooted.getFileSystem()).getRoot();
    return PathConfinement.resolveEntry(realHome, realHome, names(rooted));
  }

  /**
   * The confinement {@link #resolveLocalFilePath} just made of this path for this SFTP channel
   * ({@link RequestMemory}), or a new one. Taken once: an open follows the resolution of its path
   * in the same request, and looking again a few microseconds later would cost an lstat per name
   * (and, for a file about to be created, an exception) without closing any gap: the kernel opens
   * by name either way.
   */
  private static Entry confinedNow(SftpSubsystemProxy subsystem, Path rooted) throws IOException {
    RequestMemory m = RequestMemory.of(subsystem);
    Entry known = m == null ? null : m.takeConfined(rooted);
    return known != null ? known : confineEntry(rooted);
  }

  private static List<String> names(Path rooted) {
    List<String> out = new ArrayList<>();
    for (Path part : rooted.toAbsolutePath().normalize()) {
      out.add(part.toString());
    }
    return out;
  }

  private static String virtual(Path rooted) {
    String s = rooted.toAbsolutePath().normalize().toString();
    return s.isEmpty() ? "/" : s;
  }

  private GatewayUser user(SftpSubsystemProxy subsystem) throws AccessDeniedException {
    GatewayUser u = registry.get(subsystem.getServerSession().getUsername());
    if (u == null) {
      throw new AccessDeniedException("user no longer exists");
    }
    return u;
  }

  private void require(SftpSubsystemProxy subsystem, Permission p, Path rooted) throws IOException {
    GatewayUser u = user(subsystem);
    String v = virtual(rooted);
    if (!u.allows(p, v)) {
      deny(subsystem.getServerSession(), p, v);
    }
  }

  private static void deny(ServerSession session, Permission p, String path) throws AccessDeniedException {
    ObjectNode e = AuditLog.event("permission.denied", session);
    e.put("permission", p.wireName());
    e.put("path", path);
    AuditLog.emit(e);
    throw new AccessDeniedException(path, null, "permission '" + p.wireName() + "' denied");
  }

  // ---- files ----

  @Override
  public SeekableByteChannel openFile(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file,
      String handle, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    boolean writes = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND)
        || options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW)
        || options.contains(StandardOpenOption.TRUNCATE_EXISTING);
    boolean reads = options.contains(StandardOpenOption.READ) || !writes;
    if (reads) {
      require(subsystem, Permission.READ, file);
    }
    if (writes) {
      require(subsystem, Permission.WRITE, file);
    }
    Entry physical = confinedNow(subsystem, file);
    if (physical.kind() == Kind.DIRECTORY) {
      throw new FileAlreadyExistsException(virtual(file), null, "is a directory");
    }
    FileAttribute<?>[] createAttrs = new FileAttribute<?>[0];
    if (physical.kind() == Kind.MISSING) {
      createAttrs = new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(masked(requestedMode(attrs, 0666)))};
    }
    // The confined physical path, opened without following a link at its end (it was none when
    // confined: one put there since is refused, not followed).
    Set<OpenOption> open = new HashSet<>(options);
    open.add(LinkOption.NOFOLLOW_LINKS);
    // MINA answers a failure with a status code and its generic text, never the exception's
    // message (which names the physical path); IsolationIT checks it.
    return FileChannel.open(physical.path(), open, createAttrs);
  }

  @Override
  public DirectoryStream<Path> openDirectory(SftpSubsystemProxy subsystem, DirectoryHandle dirHandle, Path dir,
      String handle, LinkOption... linkOptions) throws IOException {
    require(subsystem, Permission.LIST, dir);
    return SftpFileSystemAccessor.super.openDirectory(subsystem, dirHandle, dir, handle, linkOptions);
  }

  @Override
  public void createDirectory(SftpSubsystemProxy subsystem, Path path) throws IOException {
    require(subsystem, Permission.MKDIR, path);
    Files.createDirectory(path, PosixFilePermissions.asFileAttribute(masked(0777)));
    RequestMemory m = RequestMemory.of(subsystem);
    if (m != null) {
      m.createdDir(path);
    }
  }

  @Override
  public void removeFile(SftpSubsystemProxy subsystem, Path path, boolean isDirectory) throws IOException {
    require(subsystem, Permission.DELETE, path);
    SftpFileSystemAccessor.super.removeFile(subsystem, path, isDirectory);
  }

  @Override
  public void renameFile(SftpSubsystemProxy subsystem, Path oldPath, Path newPath, Collection<CopyOption> opts)
      throws IOException {
    require(subsystem, Permission.RENAME, oldPath);
    require(subsystem, Permission.RENAME, newPath);
    if (Files.exists(newPath, LinkOption.NOFOLLOW_LINKS)) {
      require(subsystem, Permission.DELETE, newPath);
    }
    checkLinkStaysInside(oldPath, newPath);
    SftpFileSystemAccessor.super.renameFile(subsystem, oldPath, newPath, opts);
  }

  @Override
  public void copyFile(SftpSubsystemProxy subsystem, Path src, Path dst, Collection<CopyOption> opts)
      throws IOException {
    require(subsystem, Permission.READ, src);
    require(subsystem, Permission.WRITE, dst);
    confine(src);
    confine(dst);
    SftpFileSystemAccessor.super.copyFile(subsystem, src, dst, opts);
  }

  /**
   * A relative symbolic link means something else once moved: refuse a move after which it would
   * point outside the home.
   */
  private static void checkLinkStaysInside(Path oldPath, Path newPath) throws IOException {
    Path physicalOld = confineParent(oldPath);
    if (!Files.isSymbolicLink(physicalOld)) {
      return;
    }
    Path target = Files.readSymbolicLink(physicalOld);
    if (target.isAbsolute()) {
      return; // resolved the same wherever the link is; checked on every use
    }
    Path realHome = ((RootedFileSystem) newPath.getFileSystem()).getRoot();
    Path newParent = confineParent(newPath).getParent();
    List<String> parts = new ArrayList<>();
    for (Path p : target) {
      parts.add(p.toString());
    }
    PathConfinement.resolve(realHome, newParent, parts);
  }

  /** The physical path with its parent resolved and the last name taken as it is. */
  private static Path confineParent(Path rooted) throws IOException {
    Path abs = rooted.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    Path physicalParent = parent == null ? ((RootedFileSystem) rooted.getFileSystem()).getRoot() : confine(parent);
    return abs.getFileName() == null ? physicalParent : physicalParent.resolve(abs.getFileName().toString());
  }

  // ---- links ----

  @Override
  public void createLink(SftpSubsystemProxy subsystem, Path link, Path existing, boolean symLink) throws IOException {
    if (!symLink) {
      deny(subsystem.getServerSession(), Permission.SYMLINK, virtual(link) + " (hard links are not supported)");
    }
    require(subsystem, Permission.SYMLINK, link);
    // The target is taken as a path inside the home (".." stops at "/"), and stored as an
    // absolute path, so that the link means the same wherever it is moved.
    Path virtualTarget = existing.isAbsolute() ? existing : link.toAbsolutePath().getParent().resolve(existing);
    Path realHome = ((RootedFileSystem) link.getFileSystem()).getRoot();
    Path physicalTarget = realHome;
    for (Path part : virtualTarget.toAbsolutePath().normalize()) {
      String n = part.toString();
      if (n.equals("..")) {
        physicalTarget = physicalTarget.equals(realHome) ? realHome : physicalTarget.getParent();
      } else if (!n.isEmpty() && !n.equals(".")) {
        physicalTarget = physicalTarget.resolve(n);
      }
    }
    Path physicalLink = confineParent(link);
    Files.createSymbolicLink(physicalLink, physicalTarget);
  }

  @Override
  public String resolveLinkTarget(SftpSubsystemProxy subsystem, Path link) throws IOException {
    Path physical = confineParent(link);
    Path target = Files.readSymbolicLink(physical);
    Path realHome = ((RootedFileSystem) link.getFileSystem()).getRoot();
    if (target.isAbsolute()) {
      if (!target.startsWith(realHome)) {
        throw new AccessDeniedException(virtual(link), null, "link points outside the home directory");
      }
      return "/" + realHome.relativize(target).toString();
    }
    return target.toString();
  }

  // ---- attributes ----

  @Override
  public void setFileAttribute(SftpSubsystemProxy subsystem, Path file, String view, String attribute, Object value,
      LinkOption... options) throws IOException {
    if ("size".equals(attribute)) {
      require(subsystem, Permission.WRITE, file); // truncation is a write, not a setstat
      confine(file);
      SftpFileSystemAccessor.super.setFileAttribute(subsystem, file, view, attribute, value, options);
      return;
    }
    setstat(subsystem, file, () -> SftpFileSystemAccessor.super.setFileAttribute(subsystem, file, view, attribute, value, options));
  }

  @Override
  public void setFilePermissions(SftpSubsystemProxy subsystem, Path path, Set<PosixFilePermission> perms,
      LinkOption... options) throws IOException {
    RequestMemory m = RequestMemory.of(subsystem);
    if (m != null && m.takeCreatedDir(path)) {
      // MKDIR's own mode: part of creating the directory, so no setstat permission needed.
      confine(path);
      Files.setPosixFilePermissions(path, masked(toMode(perms)));
      return;
    }
    setstat(subsystem, path, () -> Files.setPosixFilePermissions(path, masked(toMode(perms))));
  }

  @Override
  public void setFileOwner(SftpSubsystemProxy subsystem, Path file, Principal value, LinkOption... options)
      throws IOException {
    setstat(subsystem, file, () -> {
      throw new AccessDeniedException(virtual(file), null, "changing the owner is not supported");
    });
  }

  @Override
  public void setGroupOwner(SftpSubsystemProxy subsystem, Path file, Principal value, LinkOption... options)
      throws IOException {
    setstat(subsystem, file, () -> {
      throw new AccessDeniedException(virtual(file), null, "changing the group is not supported");
    });
  }

  @Override
  public void setFileAccessControl(SftpSubsystemProxy subsystem, Path file, List<AclEntry> acl,
      LinkOption... options) throws IOException {
    setstat(subsystem, file, () -> {
      throw new AccessDeniedException(virtual(file), null, "ACLs are not supported");
    });
  }

  private interface IoAction {
    void run() throws IOException;
  }

  private void setstat(SftpSubsystemProxy subsystem, Path file, IoAction action) throws IOException {
    if (setstatMode == SetstatMode.IGNORE) {
      return;
    }
    confine(file);
    try {
      require(subsystem, Permission.SETSTAT, file);
      action.run();
    } catch (IOException e) {
      if (setstatMode == SetstatMode.ENFORCE) {
        throw e;
      }
    }
  }

  // ---- modes ----

  private Set<PosixFilePermission> masked(int mode) {
    return fromMode(mode & 0777 & ~umask);
  }

  private static int requestedMode(FileAttribute<?>[] attrs, int dflt) {
    for (FileAttribute<?> a : attrs) {
      if (a.name().endsWith("permissions") && a.value() instanceof Set<?> set) {
        @SuppressWarnings("unchecked")
        Set<PosixFilePermission> perms = (Set<PosixFilePermission>) set;
        return toMode(perms);
      }
    }
    return dflt;
  }

  static int toMode(Set<PosixFilePermission> perms) {
    int mode = 0;
    for (PosixFilePermission p : perms) {
      mode |= 1 << (8 - p.ordinal());
    }
    return mode;
  }

  static Set<PosixFilePermission> fromMode(int mode) {
    Set<PosixFilePermission> out = EnumSet.noneOf(PosixFilePermission.class);
    for (PosixFilePermission p : PosixFilePermission.values()) {
      if ((mode & (1 << (8 - p.ordinal()))) != 0) {
        out.add(p);
      }
    }
    return out;
  }
}
