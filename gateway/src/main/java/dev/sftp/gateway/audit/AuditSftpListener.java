package dev.sftp.gateway.audit;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.CopyOption;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.Handle;
import org.apache.sshd.sftp.server.SftpEventListener;

/**
 * Turns completed SFTP operations into audit events, with the bytes moved per open file. Every
 * file opened yields exactly one event when it ends: {@code file.read}, {@code file.write} or
 * {@code file.open} (neither), whose {@code result} is {@code ok}, {@code error} (a read or write
 * failed: no space left, an I/O error; {@code reason} names it) or {@code interrupted} (the
 * channel ended with the file still open: a dropped connection, a shutdown, a limit).
 */
public class AuditSftpListener implements SftpEventListener {
  private static final AttributeKey<AtomicLong> READ = new AttributeKey<>();
  private static final AttributeKey<AtomicLong> WRITTEN = new AttributeKey<>();
  private static final AttributeKey<Long> OPENED = new AttributeKey<>();
  /** The first read or write on the handle that failed. */
  private static final AttributeKey<Throwable> FAILED = new AttributeKey<>();
  private final dev.sftp.gateway.metrics.GatewayMetrics metrics;

  public AuditSftpListener(dev.sftp.gateway.metrics.GatewayMetrics metrics) {
    this.metrics = metrics;
  }

  @Override
  public void open(ServerSession session, String remoteHandle, Handle localHandle) {
    if (localHandle instanceof FileHandle fh) {
      fh.setAttribute(OPENED, System.nanoTime());
    }
  }

  @Override
  public void read(ServerSession session, String remoteHandle, FileHandle localHandle, long offset,
      byte[] data, int dataOffset, int dataLen, int readLen, Throwable thrown) {
    if (readLen > 0) {
      localHandle.computeAttributeIfAbsent(READ, k -> new AtomicLong()).addAndGet(readLen);
      metrics.bytesRead(session.getUsername(), readLen);
    }
    if (thrown != null && !(thrown instanceof java.io.EOFException)) {
      localHandle.computeAttributeIfAbsent(READ, k -> new AtomicLong());
      localHandle.computeAttributeIfAbsent(FAILED, k -> thrown);
    }
  }

  @Override
  public void written(ServerSession session, String remoteHandle, FileHandle localHandle, long offset,
      byte[] data, int dataOffset, int dataLen, Throwable thrown) {
    if (thrown == null) {
      localHandle.computeAttributeIfAbsent(WRITTEN, k -> new AtomicLong()).addAndGet(dataLen);
      metrics.bytesWritten(session.getUsername(), dataLen);
    } else {
      localHandle.computeAttributeIfAbsent(WRITTEN, k -> new AtomicLong());
      localHandle.computeAttributeIfAbsent(FAILED, k -> thrown);
    }
  }

  /** MINA's end of a handle still open when its channel ends (it calls no {@link #closed} then). */
  @Override
  public void exiting(ServerSession session, Handle localHandle) {
    if (localHandle instanceof FileHandle fh) {
      ended(session, fh, null, true);
    }
  }

  @Override
  public void closed(ServerSession session, String remoteHandle, Handle localHandle, Throwable thrown) {
    if (localHandle instanceof FileHandle fh) {
      ended(session, fh, thrown, false);
    }
  }

  private void ended(ServerSession session, FileHandle fh, Throwable thrown, boolean interrupted) {
    if (fh.setAttribute(ENDED, Boolean.TRUE) != null) {
      return; // once per file
    }
    AtomicLong r = fh.getAttribute(READ);
    AtomicLong w = fh.getAttribute(WRITTEN);
    String type = w != null ? "file.write" : r != null ? "file.read" : "file.open";
    ObjectNode e = AuditLog.event(type, session);
    e.put("path", fh.getFile().toString());
    e.put("bytesRead", r == null ? 0 : r.get());
    e.put("bytesWritten", w == null ? 0 : w.get());
    Long opened = fh.getAttribute(OPENED);
    if (opened != null) {
      e.put("durationMs", (System.nanoTime() - opened) / 1_000_000);
    }
    Throwable failed = thrown != null ? thrown : fh.getAttribute(FAILED);
    if (failed != null) {
      result(e, failed);
    } else if (interrupted) {
      e.put("result", "interrupted");
    } else {
      result(e, null);
    }
    AuditLog.emit(e);
  }

  private static final AttributeKey<Boolean> ENDED = new AttributeKey<>();

  @Override
  public void openFailed(ServerSession session, String remotePath, Path localPath, boolean isDirectory, Throwable thrown) {
    ObjectNode e = AuditLog.event(isDirectory ? "dir.open" : "file.open", session);
    e.put("path", localPath == null ? remotePath : localPath.toString());
    result(e, thrown);
    AuditLog.emit(e);
  }

  @Override
  public void created(ServerSession session, Path path, Map<String, ?> attrs, Throwable thrown) {
    ObjectNode e = AuditLog.event("dir.create", session);
    e.put("path", path.toString());
    result(e, thrown);
    AuditLog.emit(e);
  }

  @Override
  public void removed(ServerSession session, Path path, boolean isDirectory, Throwable thrown) {
    ObjectNode e = AuditLog.event(isDirectory ? "dir.remove" : "file.remove", session);
    e.put("path", path.toString());
    result(e, thrown);
    AuditLog.emit(e);
  }

  @Override
  public void moved(ServerSession session, Path srcPath, Path dstPath, Collection<CopyOption> opts, Throwable thrown) {
    ObjectNode e = AuditLog.event("rename", session);
    e.put("path", srcPath.toString());
    e.put("target", dstPath.toString());
    result(e, thrown);
    AuditLog.emit(e);
  }

  @Override
  public void linked(ServerSession session, Path source, Path target, boolean symLink, Throwable thrown) {
    ObjectNode e = AuditLog.event(symLink ? "symlink" : "hardlink", session);
    e.put("path", source.toString());
    e.put("target", target.toString());
    result(e, thrown);
    AuditLog.emit(e);
  }

  @Override
  public void modifiedAttributes(ServerSession session, Path path, Map<String, ?> attrs, Throwable thrown) {
    ObjectNode e = AuditLog.event("setstat", session);
    e.put("path", path.toString());
    e.put("attributes", String.join(",", new java.util.TreeSet<>(attrs.keySet())));
    result(e, thrown);
    AuditLog.emit(e);
  }

  /** What failed, in words a reader of the audit log acts on; never a server path. */
  static String reason(Throwable t) {
    String m = String.valueOf(t.getMessage());
    if (m.contains("No space left on device")) {
      return "no space left on the volume";
    }
    if (m.contains("Disk quota exceeded")) {
      return "the volume's quota is exceeded";
    }
    return t.getClass().getSimpleName();
  }

  static void result(ObjectNode e, Throwable thrown) {
    if (thrown == null) {
      e.put("result", "ok");
    } else {
      e.put("result", "error");
      e.put("reason", reason(thrown));
    }
  }
}
