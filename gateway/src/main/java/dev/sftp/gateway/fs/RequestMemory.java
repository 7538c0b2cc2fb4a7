package dev.sftp.gateway.fs;

import dev.sftp.gateway.fs.PathConfinement.Entry;
import java.nio.file.Path;

/**
 * What {@link ConfinedFileSystemAccessor} remembers between the calls MINA makes for one SFTP
 * request: the path an OPEN just confined, the directory a MKDIR just created. It belongs to the
 * SFTP channel, not to a thread, because a channel's requests may run on different threads (on
 * the I/O thread that read them, or on the channel's own; see {@code GatewaySftpSubsystem}) and
 * one thread runs requests of many sessions. Only one request of a channel runs at a time.
 */
public final class RequestMemory {
  /** An SFTP subsystem that keeps a memory for the accessor. */
  public interface Holder {
    RequestMemory requestMemory();
  }

  Path confinedRooted;
  Entry confinedEntry;
  Path justCreatedDir;

  /** Forgets everything: called before each request. */
  public void clear() {
    confinedRooted = null;
    confinedEntry = null;
    justCreatedDir = null;
  }
}
