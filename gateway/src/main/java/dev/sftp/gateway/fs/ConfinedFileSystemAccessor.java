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
import dev.sftp.contract.UploadMode;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
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
  private final Beneath beneath;
  private final int maxHandles;
  private final Descriptors descriptors;
  private final UploadMode uploadMode;
  private final Quotas quotas;

  /**
   * @param beneath the kernel's check of every path used (or user space only, where it cannot)
   * @param maxHandles files and directories one SFTP channel may hold open
   * @param descriptors the process's budget of file descriptors
   * @param uploadMode whether uploads are written in place or published whole on close
   * @param quotas the homes' usage, for users with a quota
   */
  public ConfinedFileSystemAccessor(UserRegistry registry, SetstatMode setstatMode, int umask, Beneath beneath, int maxHandles,
      Descriptors descriptors, UploadMode uploadMode, Quotas quotas) {
    this.quotas = quotas;
    this.descriptors = descriptors;
    this.uploadMode = uploadMode;
    this.registry = registry;
    this.setstatMode = setstatMode;
    this.umask = umask;
    this.beneath = beneath;
    this.maxHandles = maxHandles;
  }

  /**
   * Refuses an open past the channel's share of handles, or past the process's budget of file
   * descriptors ({@link Descriptors}), with a status that says so (MINA's own limit, set one
   * higher as a backstop, answers "no space left on device").
   */
  private void checkHandles(SftpSubsystemProxy subsystem) throws IOException {
    if (subsystem instanceof RequestMemory.Holder h && h.openHandles() >= maxHandles) {
      throw new Refusal(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_FAILURE, "maxOpenHandlesPerChannel",
          "Too many open handles: at most " + maxHandles + " per SFTP session; close some first");
    }
    if (!descriptors.tryFile()) {
      throw new Refusal(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_FAILURE, "fileDescriptors",
          "The server has too many files open (" + descriptors.filesLimit() + "); try again later");
    }
  }

  /**
   * A refusal whose message is meant for the client: it names a limit, never a path of the
   * server (other failures are answered with the status's generic text).
   */
  public static final class Refusal extends org.apache.sshd.sftp.common.SftpException {
    private static final long serialVersionUID = 1L;

    private final String limit;

    public Refusal(int status, String limit, String message) {
      super(status, message);
      this.limit = limit;
    }

    /** The limit's name, as in the contract (for the audit event and the metrics). */
    public String limit() {
      return limit;
    }
  }

  // ---- path resolution and confinement ----

  /**
   * The longest path a client may send, in bytes: Linux's PATH_MAX. Longer ones are refused before
   * any work (a path of a million names cost a minute of CPU to resolve; one past PATH_MAX was
   * answered, by STAT, with success and no attributes).
   */
  public static final int MAX_PATH_BYTES = 4096;

  @Override
  public Path resolveLocalFilePath(SftpSubsystemProxy subsystem, Path rootDir, String remotePath)
      throws IOException, InvalidPathException {
    if (remotePath.length() > MAX_PATH_BYTES || remotePath.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
      throw new Refusal(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_FAILURE, "pathMax", "Path too long: at most " + MAX_PATH_BYTES + " bytes");
    }
    if (remotePath.contains(UPLOAD_PREFIX)) {
      refuseReserved(remotePath);
    }
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

  // ---- quotas ----

  /** The home's usage when the user has a quota, else null (nothing is counted for them). */
  private Quotas.Usage usage(SftpSubsystemProxy subsystem) throws IOException {
    GatewayUser u = user(subsystem);
    return u.limits().hasQuota() ? quotas.usage(u.home()) : null;
  }

  private Long quota(SftpSubsystemProxy subsystem, boolean bytes) {
    GatewayUser u = registry.get(subsystem.getServerSession().getUsername());
    if (u == null) {
      return 0L;
    }
    return bytes ? u.limits().quotaBytes() : u.limits().quotaFiles();
  }

  /**
   * The refusal of a write or create past the quota: SSH_FX_QUOTA_EXCEEDED for clients of SFTP 5
   * and later, SSH_FX_FAILURE with the same message for the others (OpenSSH, most clients: version
   * 3 has no such code).
   */
  private Refusal quotaExceeded(SftpSubsystemProxy subsystem, boolean bytes) {
    int status = subsystem.getVersion() >= org.apache.sshd.sftp.common.SftpConstants.SFTP_V5
        ? org.apache.sshd.sftp.common.SftpConstants.SSH_FX_QUOTA_EXCEEDED : org.apache.sshd.sftp.common.SftpConstants.SSH_FX_FAILURE;
    Long q = quota(subsystem, bytes);
    return new Refusal(status, bytes ? "quotaBytes" : "quotaFiles", bytes
        ? "Quota exceeded: the home may hold " + q + " bytes; remove files to make room"
        : "Quota exceeded: the home may hold " + q + " files; remove some to make room");
  }

  private void takeFile(SftpSubsystemProxy subsystem, Quotas.Usage usage) throws Refusal {
    if (usage != null && !usage.takeFile(quota(subsystem, false))) {
      throw quotaExceeded(subsystem, false);
    }
  }

  /**
   * A channel that takes its growth from the quota, when the user has one. {@code physical} is the
   * name it was just opened as (with the home's changes held still, so that it is this file).
   */
  private FileChannel counted(SftpSubsystemProxy subsystem, FileChannel channel, Quotas.Usage usage, Path physical) {
    if (usage == null) {
      return channel;
    }
    java.nio.file.attribute.BasicFileAttributes opened = statIfAny(physical);
    Object key = opened == null ? null : opened.fileKey();
    return new QuotaChannel(channel, usage, () -> quota(subsystem, true), () -> quotaExceeded(subsystem, true), () -> {
      java.nio.file.attribute.BasicFileAttributes now = statIfAny(physical);
      return key != null && now != null && key.equals(now.fileKey());
    });
  }

  /** Holds the home's counted changes still (see {@link Quotas.Usage#lockChanges}); no quota, no lock. */
  private static void lock(Quotas.Usage usage) {
    if (usage != null) {
      usage.lockChanges();
    }
  }

  private static void unlock(Quotas.Usage usage) {
    if (usage != null) {
      usage.unlockChanges();
    }
  }

  private interface IoCall<T> {
    T call() throws IOException;
  }

  /**
   * Makes a new name in the home that the quota counts as a file (an upload's temporary, a link):
   * with the home's changes held still, one more file is taken first, and given back if the name
   * could not be made.
   */
  private <T> T newFile(SftpSubsystemProxy subsystem, Quotas.Usage usage, IoCall<T> make) throws IOException {
    lock(usage);
    try {
      takeFile(subsystem, usage);
      try {
        return make.call();
      } catch (IOException | RuntimeException e) {
        if (usage != null) {
          usage.releaseFile();
        }
        throw e;
      }
    } finally {
      unlock(usage);
    }
  }

  /** Size and kind of a name, not following a link at it; null if there is nothing. */
  private java.nio.file.attribute.BasicFileAttributes statIfAny(Path physical) {
    try (Beneath.At at = beneath.at(physical)) {
      return Files.readAttributes(at.path(), java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
    } catch (IOException e) {
      return null;
    }
  }

  /** Gives back what a name that is gone took. */
  private static void released(Quotas.Usage usage, java.nio.file.attribute.BasicFileAttributes gone) {
    if (usage != null && gone != null && !gone.isDirectory()) {
      usage.releaseFile();
      if (gone.isRegularFile()) {
        usage.releaseBytes(gone.size());
      }
    }
  }

  // ---- files ----

  @Override
  public SeekableByteChannel openFile(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file,
      String handle, Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    boolean writes = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND)
        || options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW)
        || options.contains(StandardOpenOption.TRUNCATE_EXISTING);
    boolean reads = options.contains(StandardOpenOption.READ) || !writes;
    checkHandles(subsystem);
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
    if (fileHandle == null) {
      // MINA's own open to change a size (SETSTAT, FSETSTAT): of this channel's upload in
      // progress to that name if there is one (lftp sets the size before it closes the file).
      RequestMemory m = RequestMemory.of(subsystem);
      Path upload = m == null ? null : m.uploadOf(file);
      if (upload != null) {
        Set<OpenOption> open = new HashSet<>(options);
        open.add(LinkOption.NOFOLLOW_LINKS);
        try (Beneath.At at = beneath.at(upload)) {
          return FileChannel.open(at.path(), open);
        }
      }
    } else if (writes && uploadMode == UploadMode.ATOMIC) {
      return openUpload(subsystem, fileHandle, file, physical, options, attrs);
    }
    FileAttribute<?>[] createAttrs = new FileAttribute<?>[0];
    if (physical.kind() == Kind.MISSING) {
      createAttrs = new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(masked(requestedMode(attrs, 0666)))};
    }
    // The confined physical path, opened without following a link at its end (it was none when
    // confined: one put there since is refused, not followed).
    Set<OpenOption> open = new HashSet<>(options);
    open.add(LinkOption.NOFOLLOW_LINKS);
    Quotas.Usage usage = writes ? usage(subsystem) : null;
    lock(usage);
    try {
      java.nio.file.attribute.BasicFileAttributes there = usage == null ? null : statIfAny(physical.path());
      boolean creates = usage != null && there == null;
      if (creates) {
        takeFile(subsystem, usage);
      }
      // MINA answers a failure with a status code and its generic text, never the exception's
      // message (which names the physical path); IsolationIT checks it.
      FileChannel channel;
      try (Beneath.At at = beneath.at(physical.path())) {
        channel = FileChannel.open(at.path(), open, createAttrs);
      } catch (IOException | RuntimeException e) {
        if (creates) {
          usage.releaseFile();
        }
        throw e;
      }
      if (there != null && there.isRegularFile() && options.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
        usage.releaseBytes(there.size());
      }
      return counted(subsystem, channel, usage, physical.path());
    } finally {
      unlock(usage);
    }
  }

  // ---- atomic uploads ----

  /**
   * The names of uploads in progress in {@link UploadMode#ATOMIC} mode start with this; clients
   * can neither see nor use such names.
   */
  public static final String UPLOAD_PREFIX = ".sftp-upload-";

  /** A temporary not written for this long was left by a process that died; a listing removes it. */
  static final java.time.Duration STALE_UPLOAD = java.time.Duration.ofHours(24);

  private static final AttributeKey<Upload> UPLOAD = new AttributeKey<>();
  /** Set on an upload's handle when a write failed or its channel ended with it open. */
  private static final AttributeKey<String> UNPUBLISHABLE = new AttributeKey<>();
  private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

  /** An upload in atomic mode: its temporary, and the name it gets when closed successfully. */
  private record Upload(Path temp, Path target, boolean exclusive, Quotas.Usage usage) {}

  private static void refuseReserved(String remotePath) throws Refusal {
    for (String name : remotePath.split("/")) {
      if (name.startsWith(UPLOAD_PREFIX)) {
        throw new Refusal(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_PERMISSION_DENIED, "reservedName",
            "Names starting with " + UPLOAD_PREFIX + " are reserved for uploads in progress");
      }
    }
  }

  /**
   * Opens an upload in atomic mode: a new temporary beside the target, which {@link #closeFile}
   * renames to the target when the client closes it after every write succeeded. Only opens that
   * write a whole new content qualify: a new file, or an existing one truncated; the temporary
   * takes an existing file's mode.
   */
  private SeekableByteChannel openUpload(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file, Entry physical,
      Set<? extends OpenOption> options, FileAttribute<?>... attrs) throws IOException {
    boolean exists = physical.kind() != Kind.MISSING;
    boolean exclusive = options.contains(StandardOpenOption.CREATE_NEW);
    if (exists && exclusive) {
      throw new FileAlreadyExistsException(virtual(file));
    }
    if (exists && !options.contains(StandardOpenOption.TRUNCATE_EXISTING)) {
      throw new Refusal(org.apache.sshd.sftp.common.SftpConstants.SSH_FX_OP_UNSUPPORTED, "uploadMode",
          "This server publishes uploads whole (upload mode Atomic): resuming, appending or writing into an existing file is not possible; upload the whole file");
    }
    if (!exists && !exclusive && !options.contains(StandardOpenOption.CREATE)) {
      throw new java.nio.file.NoSuchFileException(virtual(file));
    }
    Set<PosixFilePermission> mode;
    if (exists) {
      try (Beneath.At at = beneath.at(physical.path())) {
        mode = Files.getPosixFilePermissions(at.path(), LinkOption.NOFOLLOW_LINKS);
      }
    } else {
      mode = masked(requestedMode(attrs, 0666));
    }
    byte[] random = new byte[8];
    RANDOM.nextBytes(random);
    Path temp = physical.path().resolveSibling(UPLOAD_PREFIX + java.util.HexFormat.of().formatHex(random));
    Set<OpenOption> open = new HashSet<>(List.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS));
    if (options.contains(StandardOpenOption.READ)) {
      open.add(StandardOpenOption.READ);
    }
    Quotas.Usage usage = usage(subsystem);
    FileChannel channel = newFile(subsystem, usage, () -> {
      try (Beneath.At at = beneath.at(temp)) {
        return counted(subsystem, FileChannel.open(at.path(), open, PosixFilePermissions.asFileAttribute(mode)), usage, temp);
      }
    });
    fileHandle.setAttribute(UPLOAD, new Upload(temp, physical.path(), exclusive, usage));
    RequestMemory m = RequestMemory.of(subsystem);
    if (m != null) {
      m.uploading(file, temp);
    }
    return channel;
  }

  /**
   * Ends a file: an upload in atomic mode is flushed (fdatasync, so that the name never leads to
   * a file whose data a crash lost) and renamed to its target if it may be published, else
   * removed; anything else ends as MINA ends it.
   */
  @Override
  public void closeFile(SftpSubsystemProxy subsystem, FileHandle fileHandle, Path file, String handle,
      java.nio.channels.Channel channel, Set<? extends OpenOption> options) throws IOException {
    Upload upload = fileHandle == null ? null : fileHandle.getAttribute(UPLOAD);
    if (upload == null) {
      SftpFileSystemAccessor.super.closeFile(subsystem, fileHandle, file, handle, channel, options);
      return;
    }
    RequestMemory m = RequestMemory.of(subsystem);
    if (m != null) {
      m.uploaded(file, upload.temp());
    }
    String unpublishable = fileHandle.getAttribute(UNPUBLISHABLE);
    try {
      if (unpublishable == null && channel instanceof FileChannel fc && fc.isOpen()) {
        fc.force(false);
      }
    } catch (IOException e) {
      unpublishable = "flushing failed: " + e.getMessage();
      throw e;
    } finally {
      if (channel != null) {
        channel.close();
      }
      if (unpublishable != null) {
        discard(upload);
      }
    }
    if (unpublishable != null) {
      throw new IOException("the upload was not published: " + unpublishable);
    }
    try (Beneath.At at = beneath.at(upload.temp())) {
      Path target = at.path().resolveSibling(upload.target().getFileName().toString());
      if (upload.exclusive() && Files.exists(target, LinkOption.NOFOLLOW_LINKS)) {
        throw new FileAlreadyExistsException(virtual(file));
      }
      lock(upload.usage());
      try {
        java.nio.file.attribute.BasicFileAttributes replaced = upload.usage() == null ? null : statIfAny(upload.target());
        Files.move(at.path(), target, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        released(upload.usage(), replaced);
      } finally {
        unlock(upload.usage());
      }
    } catch (IOException | RuntimeException e) {
      discard(upload);
      throw e;
    }
  }

  private void discard(Upload upload) {
    lock(upload.usage());
    try (Beneath.At at = beneath.at(upload.temp())) {
      java.nio.file.attribute.BasicFileAttributes gone = upload.usage() == null ? null : statIfAny(upload.temp());
      if (Files.deleteIfExists(at.path())) {
        released(upload.usage(), gone);
      }
    } catch (IOException e) {
      java.util.logging.Logger.getLogger(ConfinedFileSystemAccessor.class.getName())
          .warning("could not remove an unpublished upload's temporary " + upload.temp() + ": " + e);
    } finally {
      unlock(upload.usage());
    }
  }

  /**
   * Marks uploads that must not be published: a write failed (no space left, a quota, an I/O
   * error), or the channel ended with the file still open (a dropped connection, a shutdown).
   * MINA announces both to listeners before it closes the handle.
   */
  public org.apache.sshd.sftp.server.SftpEventListener uploadEnds() {
    return new org.apache.sshd.sftp.server.SftpEventListener() {
      @Override
      public void written(ServerSession session, String remoteHandle, FileHandle localHandle, long offset, byte[] data,
          int dataOffset, int dataLen, Throwable thrown) {
        if (thrown != null && localHandle.getAttribute(UPLOAD) != null) {
          localHandle.computeAttributeIfAbsent(UNPUBLISHABLE, k -> "a write failed (" + thrown.getClass().getSimpleName() + ")");
        }
      }

      @Override
      public void exiting(ServerSession session, org.apache.sshd.sftp.server.Handle localHandle) {
        if (localHandle instanceof FileHandle fh && fh.getAttribute(UPLOAD) != null) {
          fh.computeAttributeIfAbsent(UNPUBLISHABLE, k -> "the connection ended before the client closed the file");
        }
      }
    };
  }

  /** Removes a temporary of an upload whose process died (not written for a day). */
  private void sweepStale(Path physicalDir, String name) {
    try (Beneath.At at = beneath.at(physicalDir.resolve(name))) {
      java.nio.file.attribute.BasicFileAttributes a = Files.readAttributes(at.path(),
          java.nio.file.attribute.BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      if (a.isRegularFile() && a.lastModifiedTime().toInstant().isBefore(java.time.Instant.now().minus(STALE_UPLOAD))) {
        Files.delete(at.path());
        java.util.logging.Logger.getLogger(ConfinedFileSystemAccessor.class.getName())
            .info("removed the temporary of an upload abandoned over a day ago: " + physicalDir.resolve(name));
      }
    } catch (IOException e) {
      // gone already, or another replica's: left alone
    }
  }

  @Override
  public DirectoryStream<Path> openDirectory(SftpSubsystemProxy subsystem, DirectoryHandle dirHandle, Path dir,
      String handle, LinkOption... linkOptions) throws IOException {
    require(subsystem, Permission.LIST, dir);
    checkHandles(subsystem);
    Path physical = confinedNow(subsystem, dir).path();
    return new Utf8Names(beneath.list(physical), dir, virtual(dir), name -> sweepStale(physical, name));
  }

  /**
   * A directory's entries as MINA uses them, paths of the home's file system by name, without
   * the names that are not valid UTF-8 (put on the volume by another workload). SFTP names are
   * UTF-8, and the rooted paths carry names as Java strings, where such a name turns into U+FFFD
   * and no longer leads back to its file: MINA's stat of it failed and ended the whole listing
   * ("No such file"), hiding every sibling. Such an entry is skipped, and the listing says so in
   * one log line; the file itself is left alone.
   */
  static final class Utf8Names implements DirectoryStream<Path> {
    private static final java.util.logging.Logger LOG = java.util.logging.Logger.getLogger(Utf8Names.class.getName());
    private final DirectoryStream<Path> names;
    private final Path dir;
    private final String where;
    private final java.util.function.Consumer<String> uploads;
    private final List<String> uploadsSeen = new ArrayList<>();

    /**
     * @param names the directory's entries (only their names are used)
     * @param dir the directory, a path of the home's file system
     * @param where the directory as the client names it, for the log
     * @param uploads told, when the listing closes, the names of uploads in progress it hid
     */
    Utf8Names(DirectoryStream<Path> names, Path dir, String where, java.util.function.Consumer<String> uploads) {
      this.names = names;
      this.dir = dir;
      this.where = where;
      this.uploads = uploads;
    }

    @Override
    public java.util.Iterator<Path> iterator() {
      java.util.Iterator<Path> all = names.iterator();
      return new java.util.Iterator<>() {
        Path next;
        int skipped;

        @Override
        public boolean hasNext() {
          while (next == null && all.hasNext()) {
            String name = all.next().getFileName().toString();
            if (name.startsWith(UPLOAD_PREFIX)) {
              if (uploadsSeen.size() < 100) {
                uploadsSeen.add(name);
              }
              continue;
            }
            Path p = dir.resolve(name);
            if (name.indexOf('\uFFFD') >= 0 && !Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
              if (skipped++ == 0) {
                LOG.warning("listing " + where + ": skipped a name that is not valid UTF-8 (SFTP names are UTF-8; rename it on the volume to make it visible)");
              }
              continue;
            }
            next = p;
          }
          return next != null;
        }

        @Override
        public Path next() {
          if (!hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          Path p = next;
          next = null;
          return p;
        }
      };
    }

    @Override
    public void close() throws IOException {
      names.close();
      for (String name : uploadsSeen) {
        uploads.accept(name);
      }
      uploadsSeen.clear();
    }
  }

  @Override
  public void createDirectory(SftpSubsystemProxy subsystem, Path path) throws IOException {
    require(subsystem, Permission.MKDIR, path);
    try (Beneath.At at = beneath.at(confine(path))) {
      Files.createDirectory(at.path(), PosixFilePermissions.asFileAttribute(masked(0777)));
    }
    RequestMemory m = RequestMemory.of(subsystem);
    if (m != null) {
      m.createdDir(path);
    }
  }

  @Override
  public void removeFile(SftpSubsystemProxy subsystem, Path path, boolean isDirectory) throws IOException {
    require(subsystem, Permission.DELETE, path);
    Path physical = confineParent(path);
    Quotas.Usage usage = usage(subsystem);
    lock(usage);
    try {
      java.nio.file.attribute.BasicFileAttributes gone = usage == null ? null : statIfAny(physical);
      try (Beneath.At at = beneath.at(physical)) {
        Files.delete(at.path());
      }
      released(usage, gone);
    } finally {
      unlock(usage);
    }
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
    Quotas.Usage usage = usage(subsystem);
    lock(usage);
    try {
      java.nio.file.attribute.BasicFileAttributes replaced = usage == null ? null : statIfAny(confineParent(newPath));
      try (Beneath.At from = beneath.at(confineParent(oldPath)); Beneath.At to = beneath.at(confineParent(newPath))) {
        Files.move(from.path(), to.path(), opts.toArray(new CopyOption[0]));
      }
      released(usage, replaced);
    } finally {
      unlock(usage);
    }
  }

  @Override
  public void copyFile(SftpSubsystemProxy subsystem, Path src, Path dst, Collection<CopyOption> opts)
      throws IOException {
    require(subsystem, Permission.READ, src);
    require(subsystem, Permission.WRITE, dst);
    List<CopyOption> options = new ArrayList<>(opts);
    options.add(LinkOption.NOFOLLOW_LINKS);
    Quotas.Usage usage = usage(subsystem);
    lock(usage);
    try {
      copyCounted(subsystem, src, dst, options, usage);
    } finally {
      unlock(usage);
    }
  }

  private void copyCounted(SftpSubsystemProxy subsystem, Path src, Path dst, List<CopyOption> options, Quotas.Usage usage) throws IOException {
    long bytes = 0;
    java.nio.file.attribute.BasicFileAttributes replaced = null;
    if (usage != null) {
      java.nio.file.attribute.BasicFileAttributes a = statIfAny(confine(src));
      bytes = a == null ? 0 : a.size();
      replaced = statIfAny(confine(dst));
      takeFile(subsystem, usage);
      if (!usage.takeBytes(bytes, quota(subsystem, true))) {
        usage.releaseFile();
        throw quotaExceeded(subsystem, true);
      }
    }
    try (Beneath.At from = beneath.at(confine(src)); Beneath.At to = beneath.at(confine(dst))) {
      Files.copy(from.path(), to.path(), options.toArray(new CopyOption[0]));
    } catch (IOException | RuntimeException e) {
      if (usage != null) {
        usage.releaseFile();
        usage.releaseBytes(bytes);
      }
      throw e;
    }
    released(usage, replaced);
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

  /**
   * A symbolic link stores a relative target as the client wrote it, as OpenSSH does, so the link
   * survives a rename of its folder or another mount point of the volume, and reading it returns
   * it unchanged. A relative target that would climb above the home from where the link is, is
   * refused. An absolute target means a path inside the home (the client's "/"); it is stored as
   * the relative path that leads there from the link's folder, so that no link on the volume ever
   * points outside the home for any program that follows it (a job processing the uploads, a
   * sidecar), not only for this gateway; reading it back gives that relative form.
   */
  @Override
  public void createLink(SftpSubsystemProxy subsystem, Path link, Path existing, boolean symLink) throws IOException {
    if (!symLink) {
      deny(subsystem.getServerSession(), Permission.SYMLINK, virtual(link) + " (hard links are not supported)");
    }
    require(subsystem, Permission.SYMLINK, link);
    String target = existing.toString();
    if (target.isEmpty() || target.indexOf('\0') >= 0) {
      throw new AccessDeniedException(virtual(link), null, "invalid link target");
    }
    Path physicalLink = confineParent(link);
    Path realHome = ((RootedFileSystem) link.getFileSystem()).getRoot();
    List<String> from = walk(List.of(), realHome.relativize(physicalLink.getParent()), false);
    if (existing.isAbsolute()) {
      // Where it leads inside the home, ".." stopping at "/", written relative to the link's folder.
      List<String> to = walk(List.of(), existing, true);
      int common = 0;
      while (common < from.size() && common < to.size() && from.get(common).equals(to.get(common))) {
        common++;
      }
      List<String> rel = new ArrayList<>();
      for (int i = common; i < from.size(); i++) {
        rel.add("..");
      }
      rel.addAll(to.subList(common, to.size()));
      target = rel.isEmpty() ? "." : String.join("/", rel);
    } else if (walk(from, existing, false) == null) {
      throw new AccessDeniedException(virtual(link), null, "the link's target '" + target + "' leaves the home directory");
    }
    Path targetPath = physicalLink.getFileSystem().getPath(target);
    newFile(subsystem, usage(subsystem), () -> {
      try (Beneath.At at = beneath.at(physicalLink)) {
        return Files.createSymbolicLink(at.path(), targetPath);
      }
    });
  }

  /**
   * The names {@code path} leads to from {@code base} (names below the home), lexically: "" and
   * "." dropped, ".." taking one name back. A ".." above the home stays there when {@code clamp},
   * else the walk fails (null).
   */
  private static List<String> walk(List<String> base, Path path, boolean clamp) {
    List<String> out = new ArrayList<>(base);
    for (Path part : path) {
      String n = part.toString();
      if (n.equals("..")) {
        if (!out.isEmpty()) {
          out.remove(out.size() - 1);
        } else if (!clamp) {
          return null;
        }
      } else if (!n.isEmpty() && !n.equals(".")) {
        out.add(n);
      }
    }
    return out;
  }

  @Override
  public String resolveLinkTarget(SftpSubsystemProxy subsystem, Path link) throws IOException {
    Path target;
    try (Beneath.At at = beneath.at(confineParent(link))) {
      target = Files.readSymbolicLink(at.path());
    }
    Path realHome = ((RootedFileSystem) link.getFileSystem()).getRoot();
    if (target.isAbsolute()) {
      // Written by earlier versions, which stored the physical path of a place in the home: shown
      // from the home. One made on the volume by another program that points elsewhere is not
      // followed, and not shown either.
      if (!target.startsWith(realHome)) {
        throw new AccessDeniedException(virtual(link), null, "link points outside the home directory");
      }
      return "/" + realHome.relativize(target).toString();
    }
    return target.toString();
  }

  // ---- attributes ----

  /**
   * The physical path an attribute operation acts on: the end of the links when they are
   * followed, else the name itself (a link stays a link).
   */
  private static Path physical(SftpSubsystemProxy subsystem, Path rooted, LinkOption... options) throws IOException {
    RequestMemory m = RequestMemory.of(subsystem);
    Path upload = m == null ? null : m.uploadOf(rooted);
    if (upload != null) {
      return upload; // this channel's own upload in progress (FSTAT, FSETSTAT name the target)
    }
    for (LinkOption o : options) {
      if (o == LinkOption.NOFOLLOW_LINKS) {
        return confineParent(rooted);
      }
    }
    return confine(rooted);
  }

  @Override
  public java.util.Map<String, ?> readFileAttributes(SftpSubsystemProxy subsystem, Path file, String view, LinkOption... options)
      throws IOException {
    try (Beneath.At at = beneath.at(physical(subsystem, file, options))) {
      return Files.readAttributes(at.path(), view, LinkOption.NOFOLLOW_LINKS);
    }
  }

  @Override
  public void setFileAttribute(SftpSubsystemProxy subsystem, Path file, String view, String attribute, Object value,
      LinkOption... options) throws IOException {
    if (value == null) {
      return;
    }
    IoAction set = () -> {
      try (Beneath.At at = beneath.at(physical(subsystem, file, options))) {
        Files.setAttribute(at.path(), view + ":" + attribute, value, LinkOption.NOFOLLOW_LINKS);
      }
    };
    if ("size".equals(attribute)) {
      require(subsystem, Permission.WRITE, file); // truncation is a write, not a setstat
      set.run();
    } else {
      setstat(subsystem, file, set);
    }
  }

  @Override
  public void setFilePermissions(SftpSubsystemProxy subsystem, Path path, Set<PosixFilePermission> perms,
      LinkOption... options) throws IOException {
    RequestMemory m = RequestMemory.of(subsystem);
    IoAction set = () -> {
      try (Beneath.At at = beneath.at(physical(subsystem, path, options))) {
        Files.getFileAttributeView(at.path(), java.nio.file.attribute.PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS)
            .setPermissions(masked(toMode(perms)));
      }
    };
    if (m != null && m.takeCreatedDir(path)) {
      // MKDIR's own mode: part of creating the directory, so no setstat permission needed.
      set.run();
      return;
    }
    setstat(subsystem, path, set);
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
