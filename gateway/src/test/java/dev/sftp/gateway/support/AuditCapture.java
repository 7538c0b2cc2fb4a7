package dev.sftp.gateway.support;

import dev.sftp.gateway.audit.AuditLog;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/** The audit events emitted during each test, as JSON lines ({@code @RegisterExtension}). */
public final class AuditCapture extends Handler implements BeforeEachCallback, AfterEachCallback {
  private final List<String> lines = new CopyOnWriteArrayList<>();

  /** The events so far, live. */
  public List<String> lines() {
    return lines;
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    lines.clear();
    Logger.getLogger(AuditLog.CATEGORY).addHandler(this);
  }

  @Override
  public void afterEach(ExtensionContext context) {
    Logger.getLogger(AuditLog.CATEGORY).removeHandler(this);
  }

  @Override
  public void publish(LogRecord r) {
    lines.add(String.valueOf(r.getMessage()));
  }

  @Override
  public void flush() {}

  @Override
  public void close() {}
}
