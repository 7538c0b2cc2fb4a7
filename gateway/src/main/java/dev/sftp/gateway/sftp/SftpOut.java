package dev.sftp.gateway.sftp;

import java.io.IOException;
import org.apache.sshd.common.PropertyResolver;
import org.apache.sshd.common.channel.BufferedIoOutputStream;
import org.apache.sshd.common.channel.exception.SshChannelBufferedOutputException;
import org.apache.sshd.common.io.IoOutputStream;

/**
 * Back-pressure for SFTP replies (benchmark lines: the bulk downloads). MINA's buffered SFTP
 * output, except that a write made inline never waits for space, and a writer that waits for
 * space is woken when half the limit is free rather than whenever a packet went out.
 *
 * <p>In a bulk download the channel's thread fills the limit and the I/O thread drains it one SSH
 * packet at a time; MINA wakes the waiting thread at every packet, which writes one more packet's
 * worth and sleeps again: a wake-up and two context switches per 32 KiB, about 14% of the
 * gateway's CPU in an AES-CTR download profile. Woken at half, the thread writes several packets'
 * worth in one go, while the packets still queued keep the I/O thread busy.
 */
final class SftpOut extends BufferedIoOutputStream {
  boolean inline;
  /** The writer waits on this, not on MINA's monitor, which is notified at every packet. */
  private final Object space = new Object();
  private volatile boolean waiting;

  /** Whether the channel is closing (a waiting writer gives up then). */
  private final java.util.function.BooleanSupplier closing;
  /** Whether reading from the connection stopped long ago (a waiting writer gives up then). */
  private final java.util.function.BooleanSupplier stalled;

  /** Where the bytes of replies waiting here are counted, server-wide ({@link PendingRequests#replies}). */
  private final PendingRequests budget;
  /** Bytes of this stream counted in {@link #budget} and not yet released. */
  private final java.util.concurrent.atomic.AtomicLong counted = new java.util.concurrent.atomic.AtomicLong();

  SftpOut(long channelId, IoOutputStream out, PropertyResolver resolver, java.util.function.BooleanSupplier closing,
      java.util.function.BooleanSupplier stalled, PendingRequests budget) {
    super("sftp-out@" + channelId, channelId, out, resolver);
    this.closing = closing;
    this.stalled = stalled;
    this.budget = budget;
  }

  /** Counts the reply from now until it is written (or the stream ends, {@link #releaseAll}). */
  @Override
  public org.apache.sshd.common.io.IoWriteFuture writeBuffer(org.apache.sshd.common.util.buffer.Buffer buffer) throws IOException {
    int n = buffer.available();
    counted.addAndGet(n);
    budget.repliesAdded(n);
    try {
      return super.writeBuffer(buffer);
    } catch (IOException | RuntimeException e) {
      release(n);
      throw e;
    }
  }

  @Override
  protected void finishWrite(org.apache.sshd.common.channel.IoWriteFutureImpl future, int bufferSize) {
    release(bufferSize);
    super.finishWrite(future, bufferSize);
  }

  /** Releases up to {@code n} counted bytes (never more than this stream counted). */
  private void release(long n) {
    long before;
    long take;
    do {
      before = counted.get();
      take = Math.min(before, n);
    } while (take > 0 && !counted.compareAndSet(before, before - take));
    if (take > 0) {
      budget.repliesGone(take);
    }
  }

  /** The stream is done with: whatever is still counted (writes that will never finish) goes. */
  void releaseAll() {
    long left = counted.getAndSet(0);
    if (left > 0) {
      budget.repliesGone(left);
    }
  }

  int pending() {
    return pendingBytesCount.get();
  }

  /** The pending bytes at or below which a waiting writer is woken. */
  int lowWater() {
    return maxPendingBytesCount / 2;
  }

  /**
   * Waits for the client to take replies for as long as the channel is open: a client that stops
   * reading is held by its SSH window (and ended by the idle timeout, since it sends nothing
   * either), not cut after MINA's 30 s wait. The wait ends when there is space, the stream
   * failed, the channel closes, the thread is interrupted (MINA's destroy), or the connection has
   * not been read from for long because it has too many requests pending ({@link
   * PendingRequests.Share#stalled}).
   */
  @Override
  protected void waitForAvailableWriteSpace(int required) throws IOException {
    if (inline) {
      reserve(required);
      return;
    }
    synchronized (space) {
      try {
        while (true) {
          waiting = true; // before reading the count: see wakeWriter
          int pending = pendingBytesCount.get();
          if (pending <= 0 || pending + required <= maxPendingBytesCount || pendingException.get() != null) {
            break;
          }
          if (closing.getAsBoolean()) {
            throw failWith(new SshChannelBufferedOutputException(channelId, "Channel closed after " + writtenBytesCount + " bytes"));
          }
          if (stalled.getAsBoolean()) {
            throw failWith(new Stalled(channelId, writtenBytesCount.get()));
          }
          try {
            space.wait(1_000); // the channel's end is checked at least this often
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw failWith(new SshChannelBufferedOutputException(channelId,
                "Waiting for pending writes interrupted after " + writtenBytesCount + " bytes"));
          }
        }
      } finally {
        waiting = false;
      }
    }
    reserve(required);
  }

  /** The end of a channel whose connection stopped being read while its client took no replies. */
  static final class Stalled extends SshChannelBufferedOutputException {
    private static final long serialVersionUID = 1L;

    Stalled(long channelId, long written) {
      super(channelId, "Too many requests pending while their replies are not read (after " + written + " bytes)");
    }
  }

  private IOException failWith(SshChannelBufferedOutputException e) {
    pendingException.compareAndSet(null, e);
    return pendingException.get();
  }

  private void reserve(int required) throws IOException {
    synchronized (pendingBytesCount) { // as MINA's does once there is space
      IOException failed = pendingException.get();
      if (failed != null) {
        throw failed;
      }
      pendingBytesCount.addAndGet(required);
    }
  }

  /**
   * MINA calls this after a write finished and its bytes left the count (or failed), before it
   * starts the next: the moment to wake a waiting writer, if the count is low enough or the
   * stream failed.
   */
  @Override
  protected void startWriting() throws IOException {
    wakeWriter();
    super.startWriting();
  }

  /**
   * The count went down before this reads {@code waiting}, and the writer sets {@code waiting}
   * before it reads the count: either it sees the lower count, or this sees it waiting (and the
   * writer holds {@code space} from its check until it waits, so the notify is not lost).
   */
  private void wakeWriter() {
    if (waiting && (pendingBytesCount.get() <= lowWater() || pendingException.get() != null)) {
      synchronized (space) {
        space.notifyAll();
      }
    }
  }
}
