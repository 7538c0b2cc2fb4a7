package dev.sftp.gateway.fs;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;

/**
 * The gateway's own budget of file descriptors, below the process limit, so that reaching it
 * never costs a login, the management port or a probe: files and directories are opened for
 * clients only while the process holds fewer than {@link #filesLimit} descriptors (the top tenth
 * of the limit, at least 128, stays for connections), and connections are accepted only below
 * {@link #connectionsLimit} (the last 64 stay for the management port and the JVM).
 *
 * <p>The count is the process's real one, read from {@code /proc/self/fd} every {@link
 * #SAMPLE_MILLIS} ms, plus every descriptor granted since that reading (closes only show at the
 * next reading): nothing to keep in step with every close path, and never below the truth.
 */
public final class Descriptors implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Descriptors.class.getName());
  static final long SAMPLE_MILLIS = 500;

  private final long limit;
  private final long filesLimit;
  private final long connectionsLimit;
  private volatile long sampled;
  private final AtomicInteger sinceSample = new AtomicInteger();
  private final ScheduledExecutorService sampler;

  private Descriptors(long limit) {
    this.limit = limit;
    this.filesLimit = limit - Math.max(128, limit / 10);
    this.connectionsLimit = limit - 64;
    this.sampled = count();
    this.sampler = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "fd-budget");
      t.setDaemon(true);
      return t;
    });
    sampler.scheduleWithFixedDelay(this::sample, SAMPLE_MILLIS, SAMPLE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /**
   * The budget for this process: its descriptor limit, or {@code -Dgateway.fd.limit} (tests and
   * operators who want a lower one).
   */
  public static Descriptors forProcess() {
    long limit = Long.getLong("gateway.fd.limit", processLimit());
    Descriptors d = new Descriptors(limit);
    LOG.info("file descriptors: " + d.sampled + " open, files opened for clients below " + d.filesLimit
        + ", connections accepted below " + d.connectionsLimit + " (limit " + limit + ")");
    if (d.filesLimit < d.sampled + 256) {
      LOG.warning("the file descriptor limit (" + limit + ") leaves little for clients: raise it (ulimit -n)");
    }
    return d;
  }

  private static long processLimit() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean u) {
      return u.getMaxFileDescriptorCount();
    }
    return 1 << 20;
  }

  private static long count() {
    try (var s = Files.list(Path.of("/proc/self/fd"))) {
      return s.count();
    } catch (IOException | RuntimeException e) {
      if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean u) {
        return u.getOpenFileDescriptorCount();
      }
      return 0;
    }
  }

  private void sample() {
    int granted = sinceSample.get();
    sampled = count();
    sinceSample.addAndGet(-granted); // grants made during the reading stay counted once more
  }

  private long now() {
    return sampled + sinceSample.get();
  }

  /** Takes one descriptor for a client's file or directory, or says no. */
  public boolean tryFile() {
    if (now() >= filesLimit) {
      return false;
    }
    sinceSample.incrementAndGet();
    return true;
  }

  /** Takes one descriptor for a connection, or says no. */
  public boolean tryConnection() {
    if (now() >= connectionsLimit) {
      return false;
    }
    sinceSample.incrementAndGet();
    return true;
  }

  public long filesLimit() {
    return filesLimit;
  }

  public long limit() {
    return limit;
  }

  @Override
  public void close() {
    sampler.shutdownNow();
  }
}
