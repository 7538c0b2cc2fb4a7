package dev.sftp.gateway.server;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntUnaryOperator;
import dev.sftp.gateway.fs.RequestMemory;
import org.apache.sshd.common.PropertyResolver;
import org.apache.sshd.common.channel.BufferedIoOutputStream;
import org.apache.sshd.common.channel.exception.SshChannelBufferedOutputException;
import org.apache.sshd.common.io.IoOutputStream;
import org.apache.sshd.common.util.ValidateUtils;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.BufferUtils;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.SftpModuleProperties;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.common.extensions.openssh.AbstractOpenSSHExtensionParser.OpenSSHExtension;
import org.apache.sshd.sftp.server.FileHandle;
import org.apache.sshd.sftp.server.Handle;
import org.apache.sshd.sftp.server.SftpSubsystem;
import org.apache.sshd.sftp.server.SftpSubsystemConfigurator;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * MINA's SFTP subsystem plus what OpenSSH clients expect and MINA's server lacks: {@code
 * statvfs@openssh.com} and {@code fstatvfs@openssh.com} ({@code df} in {@code sftp}). The hard
 * link extension is not advertised, since hard links are refused.
 */
public class GatewaySftpSubsystem extends SftpSubsystem implements RequestMemory.Holder {
  static final String STATVFS = "statvfs@openssh.com";
  static final String FSTATVFS = "fstatvfs@openssh.com";
  private static final long ST_NOSUID = 0x2;
  /** At most this many reply bytes are held back to be sent with the next ones. */
  static final int MAX_HELD_BYTES = Integer.getInteger("gateway.sftp.coalesce-bytes", 256 * 1024);

  /** Replies not sent yet: more requests were queued when they were made (see {@link #send}). */
  private final List<Buffer> held = new ArrayList<>();
  private int heldBytes;

  /**
   * Whether requests may run on the I/O thread that read them (see {@link #data}); {@code
   * -Dgateway.sftp.inline=false} turns it off.
   */
  static final boolean INLINE = Boolean.parseBoolean(System.getProperty("gateway.sftp.inline", "true"));
  /** A request that takes longer than this inline sends the channel's next requests to its thread. */
  static final long INLINE_SLOW_NANOS = Long.getLong("gateway.sftp.inline-slow-micros", 5_000) * 1_000;
  /** How many requests go to the channel's thread after one ran slowly inline. */
  static final int INLINE_BACKOFF = 64;
  /** Replies not yet handed to the SSH channel above which requests go to the channel's thread. */
  static final int INLINE_MAX_PENDING = 64 * 1024;

  /** Requests handed to this channel's SFTP thread and not processed yet. */
  private final AtomicInteger queued = new AtomicInteger();
  /** I/O threads running SFTP requests inline now, over all channels of the server. */
  private final InlineSlots slots;
  /**
   * Requests still to go to the channel's thread since one ran slowly inline (a slow volume, or
   * a thread that lost its core for a while): a slow volume keeps them there, a hiccup does not.
   */
  private int backoff;
  /** True while an inline batch has more requests after the current one. */
  private boolean inlineMore;
  private final RequestMemory memory = new RequestMemory();

  GatewaySftpSubsystem(ChannelSession channel, SftpSubsystemConfigurator configurator, InlineSlots slots) {
    super(channel, configurator);
    this.slots = slots;
  }

  /**
   * Takes the SFTP requests out of the channel's data, as MINA's does, and runs them right here,
   * on the I/O thread that decrypted them, when this channel's own SFTP thread has nothing to do.
   * MINA hands every request to that thread and the reply's write completion back to a pool
   * thread; for a request that takes microseconds (the open, read and close of a small file)
   * those wake-ups cost more than the request. A request still goes to the channel's thread
   * (MINA's way, in order) when that thread has requests queued, when replies are waiting for
   * the client's window (a bulk download), when it is an extended request (copies, hashes: no
   * bound on their time), for the next {@link #INLINE_BACKOFF} requests after one took more than
   * {@link #INLINE_SLOW_NANOS} inline (a slow volume), and when all but one of the server's I/O
   * threads are running requests already, so that one is always free for the network.
   */
  @Override
  public int data(ChannelSession channel, byte[] buf, int start, int len) throws IOException {
    buffer.compact();
    buffer.putRawBytes(buf, start, len);
    List<Buffer> batch = null;
    while (buffer.available() >= 4) {
      int rpos = buffer.rpos();
      int msgLen = buffer.getInt();
      if (buffer.available() < msgLen) {
        buffer.rpos(rpos);
        break;
      }
      Buffer b = new ByteArrayBuffer(msgLen + 4 + 64, false);
      b.putUInt(msgLen);
      b.putRawBytes(buffer.array(), buffer.rpos(), msgLen);
      buffer.rpos(rpos + msgLen + 4);
      if (batch == null) {
        batch = new ArrayList<>(2);
      }
      batch.add(b);
    }
    if (batch == null) {
      return 0;
    }
    int i = 0;
    if (backoff > 0) {
      backoff = Math.max(0, backoff - batch.size());
    } else if (INLINE && queued.get() == 0 && !closed.get() && out instanceof SftpOut o && slots.tryAcquire()) {
      long done = 0;
      o.inline = true;
      try {
        while (i < batch.size() && backoff == 0 && inlineable(batch.get(i), o)) {
          Buffer b = batch.get(i++);
          inlineMore = i < batch.size();
          int n = b.available();
          long t0 = System.nanoTime();
          processOne(b);
          done += n;
          if (System.nanoTime() - t0 > INLINE_SLOW_NANOS) {
            backoff = INLINE_BACKOFF;
            log.debug("data({}) a request took over {} µs inline: the next {} go to the channel's thread",
                getServerSession(), INLINE_SLOW_NANOS / 1000, INLINE_BACKOFF);
          }
        }
        inlineMore = false;
        sendHeld(); // before anything goes to the channel's thread
      } catch (IOException | RuntimeException | Error e) {
        // MINA's request loop ends the channel on such a failure: hand it over to end there.
        batch.subList(0, i).clear();
        batch.add(0, new Failed(e));
        i = 0;
      } finally {
        inlineMore = false;
        o.inline = false;
        slots.release();
        if (done > 0) {
          channel.getLocalWindow().release(done);
        }
      }
    }
    if (i < batch.size()) {
      List<Buffer> rest = i == 0 ? batch : batch.subList(i, batch.size());
      queued.addAndGet(rest.size());
      requests.addAll(rest);
    }
    return 0;
  }

  private static boolean inlineable(Buffer request, SftpOut o) {
    int type = request.array()[request.rpos() + 4] & 0xff;
    return type != SftpConstants.SSH_FXP_EXTENDED && o.pending() <= INLINE_MAX_PENDING;
  }

  /** A request handed to this channel's SFTP thread (MINA's request loop). */
  @Override
  protected void process(Buffer b) throws IOException {
    try {
      if (b instanceof Failed f) {
        throw f.rethrow();
      }
      processOne(b);
    } finally {
      queued.decrementAndGet();
    }
  }

  private void processOne(Buffer b) throws IOException {
    memory.clear();
    super.process(b);
  }

  @Override
  public RequestMemory requestMemory() {
    return memory;
  }

  /** A request that failed inline, handed to the channel's thread to fail there. */
  private static final class Failed extends ByteArrayBuffer {
    private final Throwable cause;

    Failed(Throwable cause) {
      super(0);
      this.cause = cause;
    }

    IOException rethrow() {
      if (cause instanceof Error e) {
        throw e;
      }
      if (cause instanceof RuntimeException e) {
        throw e;
      }
      return (IOException) cause;
    }
  }

  /** How many I/O threads may run SFTP requests at once: all of them but one. */
  static final class InlineSlots {
    private final int max;
    private final AtomicInteger used = new AtomicInteger();

    InlineSlots(int max) {
      this.max = max;
    }

    boolean tryAcquire() {
      int n;
      do {
        n = used.get();
        if (n >= max) {
          return false;
        }
      } while (!used.compareAndSet(n, n + 1));
      return true;
    }

    void release() {
      used.decrementAndGet();
    }
  }

  @Override
  public void setIoOutputStream(IoOutputStream stream) {
    ChannelSession channel = getServerChannelSession();
    out = new SftpOut(channel.getChannelId(), stream, channel);
  }

  /**
   * MINA's buffered SFTP output, except that a write made inline never waits for space, and a
   * writer that waits for space is woken when half the limit is free rather than whenever a packet
   * went out.
   *
   * <p>In a bulk download the channel's thread fills the limit and the I/O thread drains it one SSH
   * packet at a time; MINA wakes the waiting thread at every packet, which writes one more packet's
   * worth and sleeps again: a wake-up and two context switches per 32 KiB, about 14% of the
   * gateway's CPU in an AES-CTR download profile. Woken at half, the thread writes several packets'
   * worth in one go, while the packets still queued keep the I/O thread busy.
   */
  static final class SftpOut extends BufferedIoOutputStream {
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

  /**
   * Sends replies together while the client has more requests queued: a client that pipelines
   * (a WRITE and its CLOSE, a file's READs, lftp's sixteen reads in flight) gets them in as few
   * SSH packets and socket writes as the size allows, the way OpenSSH's sftp-server fills its
   * output buffer. A reply waits only while this thread has another request to process, and
   * never for more than {@link #MAX_HELD_BYTES} bytes.
   */
  @Override
  protected void send(Buffer reply) throws IOException {
    BufferUtils.updateLengthPlaceholder(reply, 0);
    if (heldBytes + reply.available() > MAX_HELD_BYTES) {
      sendHeld(); // what was held goes first
    }
    held.add(reply);
    heldBytes += reply.available();
    Buffer next = requests.peek();
    // Past half the limit another reply would rarely fit: send (a big READ reply at once).
    if (!inlineMore && (next == null || next == CLOSE) || heldBytes > MAX_HELD_BYTES / 2) {
      sendHeld();
    }
  }

  private void sendHeld() throws IOException {
    if (held.isEmpty()) {
      return;
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
    writeInPackets(all);
  }

  /**
   * Writes {@code data} in slices of at most one SSH packet's payload, each a view of the same
   * array. Given more than a packet, MINA's channel stream first copies the whole buffer (in case
   * the caller reuses it; these replies are never reused) and then copies each packet out of the
   * copy: a download allocated three bytes per byte sent, and G1 collected that much more often.
   */
  private void writeInPackets(Buffer data) throws IOException {
    long max = getServerChannelSession().getRemoteWindow().getPacketSize();
    int packet = (int) Math.min(Integer.MAX_VALUE, Math.max(1024, max)); // a sane size if odd
    int off = data.rpos();
    int left = data.available();
    while (left > packet) {
      out.writeBuffer(new ByteArrayBuffer(data.array(), off, packet));
      off += packet;
      left -= packet;
    }
    out.writeBuffer(off == data.rpos() ? data : new ByteArrayBuffer(data.array(), off, left));
  }

  /** Called on the way out of the request loop, however it ends: nothing held is lost. */
  @Override
  protected void closeAllHandles() {
    try {
      sendHeld();
    } catch (IOException | RuntimeException e) {
      log.debug("closeAllHandles({}) held replies not sent: {}", getServerSession(), e.toString());
    }
    super.closeAllHandles();
  }

  /**
   * MINA's READ, except at the end of the file: MINA builds an {@link EOFException} with a
   * message and a stack trace there, once for every file read to its end (a 4 KiB download is
   * two READs, the second answered "end of file"). The end is now reported with an exception that
   * has neither, through the same status path, so clients get the same SSH_FX_EOF status and
   * text.
   */
  @Override
  protected void doRead(Buffer buffer, int id) throws IOException {
    String handle = buffer.getString(StandardCharsets.ISO_8859_1);
    long offset = buffer.getLong();
    int requested = buffer.getInt();
    int length = Math.min(requested, SftpModuleProperties.MAX_READDATA_PACKET_LENGTH.getRequired(getServerSession()));
    try {
      ValidateUtils.checkTrue(length >= 0, "Illegal requested read length: %d", length);
      buffer = prepareReply(buffer);
      buffer.ensureCapacity(length + 64, IntUnaryOperator.identity());
      buffer.putByte((byte) SftpConstants.SSH_FXP_DATA);
      buffer.putInt(id);
      int lengthAt = buffer.wpos();
      buffer.putUInt(0);
      AtomicReference<Boolean> eof = new AtomicReference<>();
      int dataAt = buffer.wpos();
      int n = doRead(id, handle, offset, length, buffer.array(), dataAt, eof);
      if (n < 0) {
        throw new EndOfFile();
      }
      buffer.wpos(dataAt + n);
      BufferUtils.updateLengthPlaceholder(buffer, lengthAt, n);
      Boolean atEnd = eof.get();
      if (n < length && getVersion() >= SftpConstants.SFTP_V6 && atEnd != null) {
        buffer.putBoolean(atEnd);
      }
    } catch (IOException | RuntimeException e) {
      // The handle as MINA's Handle.safe shows it in its messages: hex.
      String shown = BufferUtils.toHex(BufferUtils.EMPTY_HEX_SEPARATOR, handle.getBytes(StandardCharsets.ISO_8859_1));
      sendStatus(prepareReply(buffer), id, e, SftpConstants.SSH_FXP_READ, shown, offset, requested);
      return;
    }
    send(buffer);
  }

  /** The end of a file, without the cost of a stack trace nobody reads. */
  static final class EndOfFile extends EOFException {
    EndOfFile() {
      super("End of file");
    }

    @Override
    public synchronized Throwable fillInStackTrace() {
      return this;
    }
  }

  /** Creates {@link GatewaySftpSubsystem}s with the factory's listeners. */
  public static class Factory extends SftpSubsystemFactory {
    private volatile InlineSlots slots;

    private InlineSlots slots(ChannelSession channel) {
      InlineSlots s = slots;
      if (s == null) {
        synchronized (this) {
          if (slots == null) {
            int ioThreads = CoreModuleProperties.NIO_WORKERS.getRequired(channel.getSession().getFactoryManager());
            slots = new InlineSlots(Math.max(1, ioThreads - 1));
          }
          s = slots;
        }
      }
      return s;
    }

    @Override
    public Command createSubsystem(ChannelSession channel) throws IOException {
      GatewaySftpSubsystem s = new GatewaySftpSubsystem(channel, this, slots(channel));
      getRegisteredListeners().forEach(s::addSftpEventListener);
      return s;
    }
  }

  @Override
  protected List<OpenSSHExtension> resolveOpenSSHExtensions(ServerSession session) {
    List<OpenSSHExtension> out = new ArrayList<>();
    for (OpenSSHExtension e : super.resolveOpenSSHExtensions(session)) {
      if (!e.getName().equals("hardlink@openssh.com")) {
        out.add(e);
      }
    }
    out.add(new OpenSSHExtension(STATVFS, "2"));
    out.add(new OpenSSHExtension(FSTATVFS, "2"));
    return out;
  }

  @Override
  protected void executeExtendedCommand(Buffer buffer, int id, String extension) throws IOException {
    switch (extension) {
      case STATVFS -> statvfs(buffer, id, resolveFile(buffer.getString()));
      case FSTATVFS -> {
        String handle = buffer.getString();
        Handle h = handles.get(handle);
        FileHandle fh = validateHandle(handle, h, FileHandle.class);
        statvfs(buffer, id, fh.getFile());
      }
      default -> super.executeExtendedCommand(buffer, id, extension);
    }
  }

  private void statvfs(Buffer buffer, int id, Path path) throws IOException {
    FileStore store = Files.getFileStore(path);
    long bsize = Math.max(1, store.getBlockSize());
    Buffer reply = prepareReply(buffer);
    reply.putByte((byte) SftpConstants.SSH_FXP_EXTENDED_REPLY);
    reply.putInt(id);
    reply.putLong(bsize); // f_bsize
    reply.putLong(bsize); // f_frsize
    reply.putLong(store.getTotalSpace() / bsize); // f_blocks
    reply.putLong(store.getUnallocatedSpace() / bsize); // f_bfree
    reply.putLong(store.getUsableSpace() / bsize); // f_bavail
    reply.putLong(0); // f_files: not known through NIO
    reply.putLong(0); // f_ffree
    reply.putLong(0); // f_favail
    reply.putLong(0); // f_fsid
    reply.putLong(ST_NOSUID | (store.isReadOnly() ? 0x1 : 0)); // f_flag
    reply.putLong(255); // f_namemax
    send(reply);
  }
}
