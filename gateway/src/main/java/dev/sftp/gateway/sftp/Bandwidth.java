package dev.sftp.gateway.sftp;

import dev.sftp.contract.UserLimits;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The upload and download bandwidth of each user ({@link UserLimits}), shared by all their
 * connections and channels: a token bucket per user and direction that refills at the user's
 * rate and holds at most a quarter second of it (at least 64 KiB). A READ or WRITE that finds
 * the bucket empty waits, without a thread, until it has refilled (see {@code
 * GatewaySftpSubsystem#run}); the requests behind it wait in order, and a client that keeps
 * sending is stopped by {@link PendingRequests} (TCP holds it). The rate is read at every request,
 * so a change to the user applies at once.
 */
public final class Bandwidth {
  static final long MIN_BURST = 64 * 1024;

  private final Function<String, UserLimits> limitsOf;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

  /** @param limitsOf the current limits of a user by name, or null if unknown */
  public Bandwidth(Function<String, UserLimits> limitsOf) {
    this.limitsOf = limitsOf;
  }

  /** The user's rate in bytes per second for a direction, or 0 for none. */
  long rate(String user, boolean upload) {
    UserLimits l = user == null ? null : limitsOf.apply(user);
    if (l == null) {
      return 0;
    }
    Long r = upload ? l.uploadBytesPerSecond() : l.downloadBytesPerSecond();
    return r == null ? 0 : r;
  }

  boolean limited(String user) {
    return rate(user, true) > 0 || rate(user, false) > 0;
  }

  /**
   * Admits a transfer of {@code bytes}: 0 if it may go now (and it is charged), else how many
   * nanoseconds to wait before asking again (nothing charged).
   */
  long admit(String user, boolean upload, long bytes) {
    long rate = rate(user, upload);
    if (rate <= 0) {
      return 0;
    }
    return buckets.computeIfAbsent(user + (upload ? "/up" : "/down"), k -> new Bucket()).take(bytes, rate, System.nanoTime());
  }

  /** Tokens in bytes; may go below zero by one request (charged first, waited for after). */
  static final class Bucket {
    private double tokens = Double.NaN;
    private long last;

    synchronized long take(long bytes, long rate, long now) {
      double burst = Math.max(rate / 4.0, MIN_BURST);
      if (Double.isNaN(tokens)) {
        tokens = burst;
      } else {
        tokens = Math.min(burst, tokens + (now - last) * (rate / 1e9));
      }
      last = now;
      if (tokens < 0) {
        return (long) Math.ceil(-tokens / rate * 1e9);
      }
      tokens -= bytes;
      return 0;
    }
  }
}
