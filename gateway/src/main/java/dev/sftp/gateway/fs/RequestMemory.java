package dev.sftp.gateway.fs;

import dev.sftp.gateway.fs.PathConfinement.Entry;
import java.nio.file.Path;

/**
 * What {@link ConfinedFileSystemAccessor} remembers between the calls MINA makes for one SFTP
 * request: the path an OPEN just confined, the directory a MKDIR just created. It belongs to the
 * SFTP channel, not to a thread, because a channel's requests may run on different threads (on
 * the I/O thread that read them, or on the channel's own; see {@code GatewaySftpSubsystem}) and
 * one thread runs requests of many sessions. Only one request of a channel runs at a time. It
 * also knows the channel's uploads in progress in atomic mode, for the whole of each upload.
 */
public final class RequestMemory {
  /** An SFTP subsystem that keeps a memory for the accessor. */
  public interface Holder {
    RequestMemory requestMemory();

    /** Files and directories the SFTP channel holds open now. */
    int openHandles();
  }

  private Path confinedRooted;
  private Entry confinedEntry;
  private Path justCreatedDir;
  /** This channel's uploads in progress in atomic mode: target (rooted) to temporary (physical). */
  private final java.util.Map<Path, Path> uploads = new java.util.concurrent.ConcurrentHashMap<>();

  /** The subsystem's memory, or null if it keeps none (the accessor then remembers nothing). */
  static RequestMemory of(Object subsystem) {
    return subsystem instanceof Holder h ? h.requestMemory() : null;
  }

  /** Forgets everything: called before each request. */
  public void clear() {
    confinedRooted = null;
    confinedEntry = null;
    justCreatedDir = null;
  }

  void confined(Path rooted, Entry entry) {
    confinedRooted = rooted;
    confinedEntry = entry;
  }

  /** What {@link #confined} kept for this very path, or null; forgotten either way. */
  Entry takeConfined(Path rooted) {
    Entry entry = same(confinedRooted, rooted) ? confinedEntry : null;
    confinedRooted = null;
    confinedEntry = null;
    return entry;
  }

  void createdDir(Path dir) {
    justCreatedDir = dir;
  }

  /** Whether {@code dir} is the directory just created; forgotten if so. */
  boolean takeCreatedDir(Path dir) {
    if (!same(justCreatedDir, dir)) {
      return false;
    }
    justCreatedDir = null;
    return true;
  }

  void uploading(Path rooted, Path temp) {
    uploads.put(rooted.toAbsolutePath().normalize(), temp);
  }

  void uploaded(Path rooted, Path temp) {
    uploads.remove(rooted.toAbsolutePath().normalize(), temp);
  }

  /** The temporary of this channel's upload in progress to {@code rooted}, or null. */
  Path uploadOf(Path rooted) {
    return uploads.isEmpty() ? null : uploads.get(rooted.toAbsolutePath().normalize());
  }

  /** Paths of another file system never compare equal (nor throw ProviderMismatchException). */
  private static boolean same(Path known, Path p) {
    return known != null && known.getFileSystem() == p.getFileSystem() && known.equals(p);
  }
}
