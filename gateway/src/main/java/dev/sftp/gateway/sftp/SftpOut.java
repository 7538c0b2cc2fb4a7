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

  SftpOut(long channelId, IoOutputStream out, PropertyResolver resolver) {
    super("sftp-out@" + channelId, channelId, out, resolver);
  }

  int pending() {
    return pendingBytesCount.get();
  }

  /** The pending bytes at or below which a waiting writer is woken. */
  int lowWater() {
    return maxPendingBytesCount / 2;
  }

  @Override
  protected void waitForAvailableWriteSpace(int required) throws IOException {
    if (inline) {
      reserve(required);
      return;
    }
    long deadline = System.nanoTime() + maxWaitForPendingWrites.toNanos();
    synchronized (space) {
      try {
        while (true) {
          waiting = true; // before reading the count: see wakeWriter
          int pending = pendingBytesCount.get();
          if (pending <= 0 || pending + required <= maxPendingBytesCount || pendingException.get() != null) {
            break;
          }
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw failWith(new SshChannelBufferedOutputException(channelId,
                "Max. pending write timeout expired after " + writtenBytesCount + " bytes"));
          }
          try {
            space.wait(Math.max(1, left / 1_000_000));
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
