package dev.sftp.gateway.sftp;

import java.util.concurrent.atomic.AtomicLong;
import org.apache.sshd.common.AttributeRepository.AttributeKey;
import org.apache.sshd.common.io.IoSession;
import org.apache.sshd.common.session.Session;

/**
 * The memory held by SFTP requests that arrived and are not processed yet, per connection and in
 * all, and the back-pressure that bounds it: a connection past its share, or past a small floor
 * while the whole server is past its budget, is no longer read from (TCP holds the client) until
 * its requests are processed.
 *
 * <p>The SSH window alone does not bound this: each channel may send its whole window (2 MiB) of
 * requests that wait while the channel's thread is busy or blocked on a client that does not read
 * its replies, a connection has up to {@code maxChannelsPerSession} channels, and a request of a
 * few bytes costs a hundred or more on the heap. Charged here is what a request costs on the heap
 * ({@link #cost}), not its length on the wire.
 *
 * <p>The bound: {@code budget + connections * (FLOOR + one read's worth of requests)}; a read is
 * at most MINA's read buffer (32 KiB of the wire) as requests. Replies have a budget of the same
 * size ({@link #readLength}): past it, READs are answered short.
 *
 * <p>A stopped connection resumes as its requests are processed. One whose channel then waits
 * for the client to read its replies cannot resume (the client's window adjustments are not read
 * while stopped): after {@link #STALL_NANOS} that channel is closed (see {@code SftpOut}). Only
 * a client that has far more requests outstanding than any client pipelines, and does not read
 * the replies, gets there.
 */
public final class PendingRequests {
  /** What a queued request costs beyond its bytes: the buffer object, its array header and the queue's node. */
  static final int OVERHEAD = 96;
  /** A connection holding no more than this is never stopped for the server's sake. */
  static final long FLOOR = 128 * 1024;

  private static final AttributeKey<Share> SHARE = new AttributeKey<>();

  private final long perSession;
  private final long budget;
  private final AtomicLong total = new AtomicLong();
  /** Bytes of replies built or waiting to be sent, over all channels. */
  private final AtomicLong replies = new AtomicLong();
  /** A READ answered while replies are over the budget gets at most this many bytes. */
  static final int SHORT_READ = 4096;

  /**
   * @param perSession bytes one connection may hold ({@code maxPendingRequestBytes})
   * @param budget bytes all connections together may hold before those holding more than {@link
   *     #FLOOR} are stopped
   */
  public PendingRequests(long perSession, long budget) {
    this.perSession = perSession;
    this.budget = Math.max(budget, FLOOR);
  }

  /** A budget of {@code percent} of the JVM's maximum heap. */
  public static long heapShare(int percent) {
    return Runtime.getRuntime().maxMemory() / 100 * percent;
  }

  /** The heap a queued request of this array length costs. */
  static long cost(int arrayLength) {
    return (long) arrayLength + OVERHEAD;
  }

  /** Bytes held now, in all (for tests and metrics). */
  public long total() {
    return total.get();
  }

  /** Bytes of replies built or waiting for their client, in all (for tests and metrics). */
  public long replies() {
    return replies.get();
  }

  /**
   * The data a READ may answer with: what it asked for while the replies waiting for their clients
   * stay within the budget, else {@link #SHORT_READ} bytes (a short read, which every client
   * follows with a READ for the rest). Replies are the other half of what clients make the
   * gateway hold: a client that asks for data and does not read it holds up to 512 KiB per
   * channel otherwise.
   */
  int readLength(int wanted) {
    return replies.get() + wanted <= budget ? wanted : Math.min(wanted, SHORT_READ);
  }

  void repliesAdded(long bytes) {
    replies.addAndGet(bytes);
  }

  void repliesGone(long bytes) {
    replies.addAndGet(-bytes);
  }

  /** One connection's holding. */
  static final class Share {
    private final IoSession io;
    private final AtomicLong held = new AtomicLong();
    private boolean suspended;
    /** {@link System#nanoTime} when reading stopped; 0 while reading. */
    private volatile long suspendedAt;

    Share(IoSession io) {
      this.io = io;
    }

    /**
     * Whether reading from this connection has been stopped for longer than {@link #STALL_NANOS}:
     * a channel waiting then for the client to take its replies would wait for ever, since the
     * client's window adjustments are not read either (see {@code SftpOut}).
     */
    boolean stalled() {
      long at = suspendedAt;
      return at != 0 && System.nanoTime() - at > STALL_NANOS;
    }
  }

  /** How long a stopped connection's channel may wait for its client to read replies. */
  static final long STALL_NANOS = Long.getLong("gateway.sftp.stall-millis", 10_000) * 1_000_000;

  Share share(Session session) {
    Share s = session.getAttribute(SHARE);
    if (s == null) {
      synchronized (session) {
        s = session.getAttribute(SHARE);
        if (s == null) {
          s = new Share(session.getIoSession());
          session.setAttribute(SHARE, s);
        }
      }
    }
    return s;
  }

  /** Requests of {@code bytes} were queued on a channel of this connection. */
  void charge(Share s, long bytes) {
    long mine = s.held.addAndGet(bytes);
    long all = total.addAndGet(bytes);
    if (mine > perSession || (all > budget && mine > FLOOR)) {
      synchronized (s) {
        if (!s.suspended) {
          s.suspended = true;
          s.suspendedAt = Math.max(1, System.nanoTime());
          s.io.suspendRead();
        }
      }
    }
  }

  /** Queued requests of {@code bytes} were processed or dropped. */
  void release(Share s, long bytes) {
    if (bytes == 0) {
      return;
    }
    long mine = s.held.addAndGet(-bytes);
    long all = total.addAndGet(-bytes);
    if (s.suspended && mine <= perSession / 2 && (all <= budget * 3 / 4 || mine <= FLOOR / 2)) {
      synchronized (s) {
        if (s.suspended) {
          s.suspended = false;
          s.suspendedAt = 0;
          s.io.resumeRead();
        }
      }
    }
  }
}
