package dev.sftp.gateway.fs;

import dev.sftp.contract.UserLimits;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

/**
 * What each home holds, in bytes (the sizes of its files) and files (anything not a directory),
 * for the users with a quota ({@link UserLimits}). Nothing is scanned when the gateway starts: a
 * home is counted the first time one of its users with a quota writes (a walk of the home, which
 * follows no link), then kept up to date by every write, create, removal, rename and truncation
 * made through this gateway, and counted again when its count is older than {@link #RESCAN_AFTER}
 * (to take in what other replicas and other programs on the volume did meanwhile). So a restart
 * costs no scan of 10,000 homes, and a home's count is never more than an hour behind what others
 * wrote.
 */
public final class Quotas {
  private static final Logger LOG = Logger.getLogger(Quotas.class.getName());
  static final Duration RESCAN_AFTER = Duration.ofHours(1);

  private final ConcurrentHashMap<Path, Usage> homes = new ConcurrentHashMap<>();

  /** The usage of a home, counted first if it was never counted or its count is stale. */
  public Usage usage(Path home) throws IOException {
    Usage u = homes.computeIfAbsent(home, Usage::new);
    u.countIfStale();
    return u;
  }

  /** The usage of a home if it was counted, else null (for reports; counts nothing). */
  public Usage known(Path home) {
    Usage u = homes.get(home);
    return u == null || u.countedAt == 0 ? null : u;
  }

  /** One home's usage. */
  public static final class Usage {
    private final Path home;
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong files = new AtomicLong();
    private volatile long countedAt;

    Usage(Path home) {
      this.home = home;
    }

    public long bytes() {
      return bytes.get();
    }

    public long files() {
      return files.get();
    }

    private synchronized void countIfStale() throws IOException {
      if (countedAt != 0 && System.nanoTime() - countedAt < RESCAN_AFTER.toNanos()) {
        return;
      }
      long t0 = System.nanoTime();
      long[] n = new long[2];
      if (Files.isDirectory(home, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.walkFileTree(home, new SimpleFileVisitor<>() {
          @Override
          public FileVisitResult visitFile(Path file, BasicFileAttributes a) {
            n[1]++;
            if (a.isRegularFile()) {
              n[0] += a.size();
            }
            return FileVisitResult.CONTINUE;
          }

          @Override
          public FileVisitResult visitFileFailed(Path file, IOException e) {
            return FileVisitResult.CONTINUE; // gone meanwhile, or unreadable: not counted
          }
        });
      }
      bytes.set(n[0]);
      files.set(n[1]);
      countedAt = System.nanoTime();
      LOG.fine(() -> "counted " + home + ": " + n[1] + " files, " + n[0] + " bytes in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /** Takes {@code n} more bytes if the quota allows; false if it does not (nothing taken). */
    boolean takeBytes(long n, Long quota) {
      if (n <= 0) {
        return true;
      }
      if (quota == null) {
        bytes.addAndGet(n);
        return true;
      }
      while (true) {
        long now = bytes.get();
        if (now + n > quota) {
          return false;
        }
        if (bytes.compareAndSet(now, now + n)) {
          return true;
        }
      }
    }

    /** Takes one more file if the quota allows. */
    boolean takeFile(Long quota) {
      while (true) {
        long now = files.get();
        if (quota != null && now + 1 > quota) {
          return false;
        }
        if (files.compareAndSet(now, now + 1)) {
          return true;
        }
      }
    }

    void releaseBytes(long n) {
      if (n > 0) {
        bytes.updateAndGet(v -> Math.max(0, v - n));
      }
    }

    void releaseFile() {
      files.updateAndGet(v -> Math.max(0, v - 1));
    }
  }
}
