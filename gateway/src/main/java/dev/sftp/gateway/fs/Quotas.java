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
 *
 * <p>Counts run on a thread of their own, never on the threads that carry sessions (a home of
 * 100,000 files takes most of a second): the first count of a home starts when a user with a quota
 * logs in ({@link #prepare}), and a write waits for it only if it is not done yet; a recount runs
 * in the background while the old count goes on being used.
 */
public final class Quotas {
  private static final Logger LOG = Logger.getLogger(Quotas.class.getName());
  static final Duration RESCAN_AFTER = Duration.ofHours(1);

  private final ConcurrentHashMap<Path, Usage> homes = new ConcurrentHashMap<>();
  private final java.util.concurrent.ExecutorService counter = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "quota-count");
    t.setDaemon(true);
    return t;
  });

  /** Starts counting a home if it was never counted or its count is stale (returns at once). */
  public void prepare(Path home) {
    homes.computeIfAbsent(home, Usage::new).countLater(counter);
  }

  /**
   * The usage of a home: waits for its first count if that is not done yet; a stale count is used
   * while it is counted again in the background.
   */
  public Usage usage(Path home) throws IOException {
    Usage u = homes.computeIfAbsent(home, Usage::new);
    u.countLater(counter);
    u.awaitFirstCount();
    return u;
  }

  /** Stops the counting thread (when the server stops). */
  public void close() {
    counter.shutdownNow();
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
    private final java.util.concurrent.locks.ReentrantLock changes = new java.util.concurrent.locks.ReentrantLock();
    private volatile boolean countingNow;
    private final AtomicLong addedDuringCount = new AtomicLong();
    private final AtomicLong filesDuringCount = new AtomicLong();
    /** The count under way or last done; null before the first. */
    private java.util.concurrent.CompletableFuture<Void> counting;

    Usage(Path home) {
      this.home = home;
    }

    /** Has the home counted on {@code counter} unless a count is under way or fresh. */
    synchronized void countLater(java.util.concurrent.Executor counter) {
      boolean fresh = countedAt != 0 && System.nanoTime() - countedAt < RESCAN_AFTER.toNanos();
      if (fresh || counting != null && !counting.isDone()) {
        return;
      }
      counting = java.util.concurrent.CompletableFuture.runAsync(() -> {
        try {
          count();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }, counter);
    }

    void awaitFirstCount() throws IOException {
      if (countedAt != 0) {
        return;
      }
      java.util.concurrent.CompletableFuture<Void> c;
      synchronized (this) {
        c = counting;
      }
      try {
        c.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("counting " + home);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IOException("the home could not be counted for its quota: " + e.getCause().getMessage(), e.getCause());
      } catch (java.util.concurrent.RejectedExecutionException | java.util.concurrent.CancellationException e) {
        throw new IOException("the server is stopping");
      }
    }

    public long bytes() {
      return bytes.get();
    }

    public long files() {
      return files.get();
    }

    private void count() throws IOException {
      long t0 = System.nanoTime();
      beginCount();
      long[] n = new long[2];
      try {
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
      } catch (IOException | RuntimeException e) {
        endCount(-1, -1);
        throw e;
      }
      endCount(n[0], n[1]);
      LOG.fine(() -> "counted " + home + ": " + n[1] + " files, " + n[0] + " bytes in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
    }

    /**
     * From here until {@link #endCount}, what the home's sessions add is also kept aside: the walk
     * may already have passed the file that grew. (Flipped with the home's changes held still, so
     * that no change falls between the flag and the walk.)
     */
    void beginCount() {
      lockChanges();
      try {
        addedDuringCount.set(0);
        filesDuringCount.set(0);
        countingNow = true;
      } finally {
        unlockChanges();
      }
    }

    /**
     * The count is what the walk found plus what was added meanwhile. What was removed meanwhile is
     * not taken off (the walk may not have reached it, or may have): the count can come out too
     * high until the next one, never too low, so that writing during a recount frees nothing. A
     * walk that failed (negative figures) leaves the count as it was.
     */
    void endCount(long walkedBytes, long walkedFiles) {
      lockChanges();
      try {
        countingNow = false;
        if (walkedBytes < 0) {
          return;
        }
        bytes.set(walkedBytes + addedDuringCount.get());
        files.set(walkedFiles + filesDuringCount.get());
        countedAt = System.nanoTime();
      } finally {
        unlockChanges();
      }
    }

    private void added(long n) {
      if (countingNow) {
        addedDuringCount.addAndGet(n);
      }
    }

    /** Takes {@code n} more bytes if the quota allows; false if it does not (nothing taken). */
    boolean takeBytes(long n, Long quota) {
      if (n <= 0) {
        return true;
      }
      if (quota == null) {
        bytes.addAndGet(n);
        added(n);
        return true;
      }
      while (true) {
        long now = bytes.get();
        if (now + n > quota) {
          return false;
        }
        if (bytes.compareAndSet(now, now + n)) {
          added(n);
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
          if (countingNow) {
            filesDuringCount.incrementAndGet();
          }
          return true;
        }
      }
    }

    /** Adds {@code n} bytes that are already written, whatever the quota (they are there). */
    void addBytes(long n) {
      if (n > 0) {
        bytes.addAndGet(n);
        added(n);
      }
    }

    /**
     * Held around every change this gateway makes to the home that the count follows, from the
     * look at what is there (a size, the name to be replaced) to the count's update, and around
     * every write and truncation of its files: two sessions of the home, or two handles of one
     * file, each count from what the other left, never from a size one of them saw before. A
     * write holds it for the write itself (one system call into the page cache).
     */
    void lockChanges() {
      changes.lock();
    }

    void unlockChanges() {
      changes.unlock();
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
