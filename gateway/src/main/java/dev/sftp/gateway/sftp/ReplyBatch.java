package dev.sftp.gateway.sftp;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.io.IoOutputStream;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;

/**
 * SFTP replies held back to go out together (benchmark lines: "2,000 x 4 KiB" and lftp, whose
 * pipelined requests each got a packet and a socket write of their own). A client that pipelines
 * (a WRITE and its CLOSE, a file's READs, lftp's sixteen reads in flight) gets its replies in as
 * few SSH packets as the size allows, the way OpenSSH's sftp-server fills its output buffer. The
 * subsystem decides when to send; this holds at most {@link #MAX_HELD_BYTES}.
 */
final class ReplyBatch {
  /** At most this many reply bytes are held back to be sent with the next ones. */
  static final int MAX_HELD_BYTES = Integer.getInteger("gateway.sftp.coalesce-bytes", 256 * 1024);

  private final List<Buffer> held = new ArrayList<>();
  private int heldBytes;

  /** Whether adding this reply would go past the limit (send what is held first). */
  boolean wouldOverflow(Buffer reply) {
    return heldBytes + reply.available() > MAX_HELD_BYTES;
  }

  void add(Buffer reply) {
    held.add(reply);
    heldBytes += reply.available();
  }

  /** Past half the limit another reply would rarely fit: time to send. */
  boolean pastHalf() {
    return heldBytes > MAX_HELD_BYTES / 2;
  }

  /** Everything held as one buffer (nothing copied for a single reply), or null; empties the batch. */
  Buffer take() {
    if (held.isEmpty()) {
      return null;
    }
    Buffer all;
    if (held.size() == 1) {
      all = held.get(0);
    } else {
      all = new ByteArrayBuffer(heldBytes, false);
      for (Buffer b : held) {
        all.putBuffer(b);
      }
    }
    held.clear();
    heldBytes = 0;
    return all;
  }

  /**
   * Writes {@code data} in slices of at most one SSH packet's payload, each a view of the same
   * array. Given more than a packet, MINA's channel stream first copies the whole buffer (in case
   * the caller reuses it; these replies are never reused) and then copies each packet out of the
   * copy: a download allocated three bytes per byte sent, and G1 collected that much more often.
   */
  static void writeInPackets(IoOutputStream out, Buffer data, long maxPacket) throws IOException {
    int packet = (int) Math.min(Integer.MAX_VALUE, Math.max(1024, maxPacket)); // a sane size if odd
    int off = data.rpos();
    int left = data.available();
    while (left > packet) {
      out.writeBuffer(new ByteArrayBuffer(data.array(), off, packet));
      off += packet;
      left -= packet;
    }
    out.writeBuffer(off == data.rpos() ? data : new ByteArrayBuffer(data.array(), off, left));
  }
}
