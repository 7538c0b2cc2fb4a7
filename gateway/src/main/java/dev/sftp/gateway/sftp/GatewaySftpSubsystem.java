package dev.sftp.gateway.sftp;

import dev.sftp.gateway.fs.RequestMemory;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntUnaryOperator;
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
 * MINA's SFTP subsystem, extended where MINA lets a subclass in:
 *
 * <ul>
 *   <li>protocol: {@code statvfs@openssh.com} and {@code fstatvfs@openssh.com} ({@link Statvfs},
 *       {@code df} in {@code sftp}); the hard link extension is not advertised, since hard links
 *       are refused; the end of a file is answered without building a stack trace;
 *   <li>performance machinery, each piece in its own class with the benchmark line it serves:
 *       short requests run on the I/O thread that read them ({@link #data}, {@link InlineSlots}:
 *       the many-small-files lines), replies sent together ({@link ReplyBatch}: the many-small-files
 *       and lftp lines), and back-pressure that wakes a writer at half the limit ({@link SftpOut}:
 *       the bulk downloads).
 * </ul>
 *
 * <p>It reaches MINA's protected request queue, buffer and output stream, which is what a subclass
 * of {@link SftpSubsystem} is given; the SFTP request handling itself stays MINA's.
 */
public class GatewaySftpSubsystem extends SftpSubsystem implements RequestMemory.Holder {
  static final String STATVFS = Statvfs.STATVFS;
  static final String FSTATVFS = Statvfs.FSTATVFS;

  /** Replies not sent yet: more requests were queued when they were made (see {@link #send}). */
  private final ReplyBatch held = new ReplyBatch();

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

  /** Requests queued and not processed yet. */
  private final AtomicInteger queued = new AtomicInteger();
  /** No SFTP message is shorter: a type and a request id (or INIT's version). */
  static final int MIN_MESSAGE = 5;
  /** The exit status of a channel ended by a malformed message (OpenSSH's sftp-server exits with 11). */
  static final int BAD_MESSAGE_EXIT = 11;
  /** The incomplete message's buffer is replaced once empty if it grew past this. */
  private static final int RAW_KEEP = 64 * 1024;

  private final Limits limits;
  private final PendingRequests.Share share;
  /** Bytes charged to {@link PendingRequests} for this channel and not yet released. */
  private final java.util.concurrent.atomic.AtomicLong charged = new java.util.concurrent.atomic.AtomicLong();
  /** Bytes of {@link #raw} charged. */
  private long rawCharged;
  /** The bytes of an incomplete message (MINA's {@code buffer}, which could not be replaced). */
  private ByteArrayBuffer raw = new ByteArrayBuffer(1024, false);
  /** A malformed message arrived: the channel is ending, later data is dropped. */
  private volatile boolean refused;
  private final java.util.concurrent.atomic.AtomicBoolean scheduled = new java.util.concurrent.atomic.AtomicBoolean();
  private final java.util.concurrent.atomic.AtomicBoolean finished = new java.util.concurrent.atomic.AtomicBoolean();
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

  GatewaySftpSubsystem(ChannelSession channel, SftpSubsystemConfigurator configurator, InlineSlots slots, Limits limits) {
    super(channel, configurator);
    this.slots = slots;
    this.limits = limits;
    this.share = limits.pending().share(channel.getSession());
  }

  /**
   * What every channel of the server shares: the largest accepted message, the budget of queued
   * requests and the pool that processes them.
   */
  public record Limits(int maxPacket, PendingRequests pending, java.util.concurrent.ExecutorService pool,
      dev.sftp.gateway.metrics.GatewayMetrics metrics, Bandwidth bandwidth, java.util.concurrent.ScheduledExecutorService timer) {}

  /** A wait for the user's bandwidth under way (see {@link #run}), or null. */
  private volatile java.util.concurrent.ScheduledFuture<?> delayed;

  /**
   * Whether the request at the head of the queue must wait for its user's bandwidth ({@link
   * Bandwidth}); if so, has the loop resumed when it may go, without holding a thread meanwhile.
   */
  private boolean waitForBandwidth(Buffer head) {
    if (head == CLOSE || head instanceof Exit || head instanceof Failed || head.available() < 9) {
      return false;
    }
    byte[] a = head.array();
    int p = head.rpos();
    int type = a[p + 4] & 0xff;
    long bytes;
    if (type == SftpConstants.SSH_FXP_WRITE) {
      bytes = head.available();
    } else if (type == SftpConstants.SSH_FXP_READ) {
      int handleLen = BufferUtils.getInt(a, p + 9, 4);
      int at = p + 13 + handleLen + 8;
      if (handleLen < 0 || at + 4 > head.wpos()) {
        return false; // malformed: MINA answers it
      }
      bytes = BufferUtils.getUInt(a, at, 4);
    } else {
      return false;
    }
    String user = getServerSession().getUsername();
    long wait = limits.bandwidth().admit(user, type == SftpConstants.SSH_FXP_WRITE, bytes);
    if (wait <= 0) {
      return false;
    }
    delayed = limits.timer().schedule(this::resume, wait, java.util.concurrent.TimeUnit.NANOSECONDS);
    return true;
  }

  /** Runs the request loop again after a wait for bandwidth (the loop is still marked scheduled). */
  private void resume() {
    delayed = null;
    try {
      pendingFuture = limits.pool().submit(this);
    } catch (java.util.concurrent.RejectedExecutionException e) { // the server is stopping
      finish(-1);
    }
  }

  /** The channel is ending: a wait for bandwidth ends now, so the loop sees the end at once. */
  private void wakeDelayed() {
    java.util.concurrent.ScheduledFuture<?> d = delayed;
    if (d != null && d.cancel(false)) {
      resume();
    }
  }

  /**
   * Takes the SFTP requests out of the channel's data, as MINA's does, and runs them right here,
   * on the I/O thread that decrypted them, when this channel's requests are not queued already.
   * MINA hands every request to the channel's thread and the reply's write completion back to a
   * pool thread; for a request that takes microseconds (the open, read and close of a small file)
   * those wake-ups cost more than the request. A request still goes to the queue (processed in
   * order, see {@link #run}) when requests are queued already, when replies are waiting for the
   * client's window (a bulk download), when it is an extended request (copies, hashes: no bound
   * on their time), for the next {@link #INLINE_BACKOFF} requests after one took more than {@link
   * #INLINE_SLOW_NANOS} inline (a slow volume), and when all but one of the server's I/O threads
   * are running requests already, so that one is always free for the network.
   *
   * <p>A message whose length is below 5 bytes (no SFTP message is shorter) or above the largest
   * accepted ({@code maxSftpPacketBytes}) ends this channel, as OpenSSH's sftp-server ends on
   * one; the connection and its other channels stay. Queued requests are charged to {@link
   * PendingRequests}, which stops reading from a connection that holds too many.
   */
  @Override
  public int data(ChannelSession channel, byte[] buf, int start, int len) throws IOException {
    if (refused || finished.get()) {
      return 0;
    }
    if (raw.available() == 0 && raw.capacity() > RAW_KEEP) {
      raw = new ByteArrayBuffer(RAW_KEEP, false); // a large message once does not stay on the heap
    }
    raw.compact();
    raw.putRawBytes(buf, start, len);
    List<Buffer> batch = null;
    while (raw.available() >= 4) {
      int rpos = raw.rpos();
      int msgLen = raw.getInt();
      if (msgLen < MIN_MESSAGE || msgLen > limits.maxPacket()) {
        refuse(msgLen);
        return 0;
      }
      if (raw.available() < msgLen) {
        raw.rpos(rpos);
        break;
      }
      Buffer b = new ByteArrayBuffer(msgLen + 4 + 64, false);
      b.putUInt(msgLen);
      b.putRawBytes(raw.array(), raw.rpos(), msgLen);
      raw.rpos(rpos + msgLen + 4);
      if (batch == null) {
        batch = new ArrayList<>(2);
      }
      batch.add(b);
    }
    chargeRaw();
    if (batch == null) {
      return 0;
    }
    int i = 0;
    if (backoff > 0) {
      backoff = Math.max(0, backoff - batch.size());
    } else if (INLINE && queued.get() == 0 && !closed.get() && out instanceof SftpOut o && !limits.bandwidth().limited(getServerSession().getUsername())
        && slots.tryAcquire()) {
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
            log.debug("data({}) a request took over {} µs inline: the next {} are queued",
                getServerSession(), INLINE_SLOW_NANOS / 1000, INLINE_BACKOFF);
          }
        }
        inlineMore = false;
        sendHeld(); // before anything is queued
      } catch (IOException | RuntimeException | Error e) {
        // MINA's request loop ends the channel on such a failure: queue it to end there.
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
      long cost = 0;
      for (Buffer b : rest) {
        cost += PendingRequests.cost(b.array().length);
      }
      charge(cost);
      queued.addAndGet(rest.size());
      requests.addAll(rest);
      schedule();
      if (finished.get()) { // ended meanwhile: nobody will process these
        limits.pending().release(share, charged.getAndSet(0));
      }
    }
    return 0;
  }

  /** The raw bytes of an incomplete message count too: up to one largest message per channel. */
  private void chargeRaw() {
    long now = raw.available();
    long delta = now - rawCharged;
    rawCharged = now;
    if (delta > 0) {
      charge(delta);
    } else if (delta < 0) {
      release(-delta);
    }
  }

  /** Charges this channel's connection (and the server) for bytes held. */
  private void charge(long bytes) {
    charged.addAndGet(bytes);
    limits.pending().charge(share, bytes);
  }

  private void release(long bytes) {
    charged.addAndGet(-bytes);
    limits.pending().release(share, bytes);
  }

  /** Audits the end of this channel by a limit (or a failure). */
  private void auditClosed(String limit, String reason) {
    dev.sftp.gateway.audit.AuditLog.emit(dev.sftp.gateway.audit.AuditLog.refusal("channel.closed", getServerSession(), limit, reason));
  }

  /** Ends this channel after a message of an impossible length; audited. */
  private void refuse(int msgLen) {
    refused = true;
    raw = new ByteArrayBuffer(0, false);
    chargeRaw();
    String reason = "SFTP message length " + Integer.toUnsignedString(msgLen) + " outside " + MIN_MESSAGE + ".." + limits.maxPacket();
    log.warn("data({}) {}: closing the channel", getServerSession(), reason);
    auditClosed("maxSftpPacketBytes", reason);
    requests.add(new Exit(BAD_MESSAGE_EXIT));
    schedule();
  }

  /** Has this channel's requests processed on the shared pool, unless that is under way. */
  private void schedule() {
    if (scheduled.compareAndSet(false, true)) {
      try {
        pendingFuture = limits.pool().submit(this);
      } catch (java.util.concurrent.RejectedExecutionException e) { // the server is stopping
        scheduled.set(false);
        finish(-1);
      }
    }
  }

  /**
   * MINA submits its request loop to a thread of the channel's own at start, which then waits for
   * requests as long as the channel is open: a thread per channel, idle or not. Here the loop runs
   * on a shared pool only while the channel has requests queued ({@link #schedule}), in order,
   * and returns the thread when the queue is empty.
   */
  @Override
  public void start(ChannelSession channel, org.apache.sshd.server.Environment env) {
    this.env = env;
  }

  /** Processes the queued requests in order, then returns the thread (see {@link #start}). */
  @Override
  public void run() {
    Integer exit = null;
    try {
      org.apache.sshd.common.channel.LocalWindow window = getServerChannelSession().getLocalWindow();
      boolean limited = limits.bandwidth().limited(getServerSession().getUsername());
      while (true) {
        if (limited && waitForBandwidth(requests.peek() == null ? CLOSE : requests.peek())) {
          return; // resumed by the timer; still scheduled, so nothing else starts the loop
        }
        Buffer b = requests.poll();
        if (b == null) {
          scheduled.set(false);
          if (requests.isEmpty() || !scheduled.compareAndSet(false, true)) {
            return;
          }
          continue;
        }
        if (b == CLOSE) {
          exit = 0;
          return;
        }
        if (b instanceof Exit x) {
          exit = x.code;
          return;
        }
        long cost = PendingRequests.cost(b.array().length); // now: the reply may grow the array
        int len = b.available();
        try {
          process(b);
        } finally {
          release(cost);
        }
        window.release(len);
      }
    } catch (Throwable t) {
      exit = -1;
      if (!closed.get()) {
        log.warn("run({}) {} in SFTP subsystem, closing the channel: {}", getServerSession(), t.getClass().getSimpleName(), t.getMessage());
        auditClosed(t instanceof SftpOut.Stalled ? "maxPendingRequestBytes" : "error", String.valueOf(t.getMessage()));
      }
    } finally {
      if (exit != null) {
        finish(exit);
      }
    }
  }

  /** The SFTP channels of a connection that have not ended. */
  static final org.apache.sshd.common.AttributeRepository.AttributeKey<java.util.Set<GatewaySftpSubsystem>> OPEN =
      new org.apache.sshd.common.AttributeRepository.AttributeKey<>();

  /** A connection that made a request this recently is busy (between two files of a batch). */
  static final long BUSY_NANOS = 2_000_000_000L;

  /** {@link System#nanoTime} of this channel's last request. */
  private volatile long lastRequest = System.nanoTime();

  /**
   * Whether a connection is busy: one of its SFTP channels holds a file open (a transfer under
   * way) or made a request within the last 2 s (a batch between two files). Otherwise it is idle.
   */
  public static boolean transferring(org.apache.sshd.common.session.Session session) {
    java.util.Set<GatewaySftpSubsystem> open = session.getAttribute(OPEN);
    if (open == null) {
      return false;
    }
    long now = System.nanoTime();
    for (GatewaySftpSubsystem s : open) {
      if (!s.finished.get() && (now - s.lastRequest < BUSY_NANOS || s.handles.values().stream().anyMatch(h -> h instanceof FileHandle))) {
        return true;
      }
    }
    return false;
  }

  /** Once: releases what is still charged, closes the handles, ends the channel. */
  private void finish(int exit) {
    if (!finished.compareAndSet(false, true)) {
      return;
    }
    java.util.Set<GatewaySftpSubsystem> open = getServerSession().getAttribute(OPEN);
    if (open != null) {
      open.remove(this);
    }
    requests.clear();
    long left = charged.getAndSet(0);
    limits.pending().release(share, left);
    closeAllHandles();
    if (callback != null) {
      callback.onExit(exit, exit != 0);
    }
    if (out instanceof SftpOut o) {
      o.releaseAll();
    }
  }

  /** The client's EOF, or the channel closing: what is queued is dropped, as MINA's does. */
  @Override
  public void close() throws IOException {
    requests.clear();
    requests.add(CLOSE);
    schedule();
    wakeDelayed();
  }

  /** A channel destroyed while idle has no request loop to end it: end it here. */
  @Override
  public void destroy(ChannelSession channel) {
    super.destroy(channel);
    requests.add(CLOSE);
    schedule();
    wakeDelayed();
  }

  /** Ends the request loop with an exit status. */
  private static final class Exit extends ByteArrayBuffer {
    final int code;

    Exit(int code) {
      super(0);
      this.code = code;
    }
  }

  private static boolean inlineable(Buffer request, SftpOut o) {
    int type = request.array()[request.rpos() + 4] & 0xff;
    return type != SftpConstants.SSH_FXP_EXTENDED && o.pending() <= INLINE_MAX_PENDING;
  }

  /** A queued request (see {@link #run}). */
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
    int type = b.available() > 4 ? b.array()[b.rpos() + 4] & 0xff : 0;
    failedStatus = false;
    lastRequest = System.nanoTime();
    super.process(b);
    limits.metrics().request(getServerSession().getUsername(), type, failedStatus);
  }

  /** Whether the request being processed was answered with an error status. */
  private boolean failedStatus;

  @Override
  protected void sendStatus(Buffer buffer, int id, int substatus, String msg, String lang) throws IOException {
    if (substatus != SftpConstants.SSH_FX_OK && substatus != SftpConstants.SSH_FX_EOF) {
      failedStatus = true;
    }
    super.sendStatus(buffer, id, substatus, msg, lang);
  }

  @Override
  public RequestMemory requestMemory() {
    return memory;
  }

  @Override
  public int openHandles() {
    return handles.size();
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

  @Override
  public void setIoOutputStream(IoOutputStream stream) {
    ChannelSession channel = getServerChannelSession();
    out = new SftpOut(channel.getChannelId(), stream, channel, channel::isClosing, share::stalled, limits.pending());
  }

  /**
   * Sends replies together while the client has more requests queued ({@link ReplyBatch}): a
   * reply waits only while this thread has another request to process, and never for more than
   * {@link ReplyBatch#MAX_HELD_BYTES} bytes.
   */
  @Override
  protected void send(Buffer reply) throws IOException {
    BufferUtils.updateLengthPlaceholder(reply, 0);
    if (held.wouldOverflow(reply)) {
      sendHeld(); // what was held goes first
    }
    held.add(reply);
    Buffer next = requests.peek();
    if (!inlineMore && (next == null || next == CLOSE) || held.pastHalf()) {
      sendHeld(); // a big READ reply goes at once
    }
  }

  private void sendHeld() throws IOException {
    Buffer all = held.take();
    if (all != null) {
      ReplyBatch.writeInPackets(out, all, getServerChannelSession().getRemoteWindow().getPacketSize());
    }
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
    int length = limits.pending().readLength(Math.min(requested, SftpModuleProperties.MAX_READDATA_PACKET_LENGTH.getRequired(getServerSession())));
    // Counted while it is built (the send below counts it again until it is written).
    limits.pending().repliesAdded(Math.max(0, length));
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
    } finally {
      limits.pending().repliesGone(Math.max(0, length));
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
    private final org.apache.sshd.common.util.threads.CloseableExecutorService pool =
        org.apache.sshd.common.util.threads.ThreadUtils.newCachedThreadPool("sftp");
    private final Limits limits;

    private final java.util.concurrent.ScheduledExecutorService timer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "sftp-bandwidth");
      t.setDaemon(true);
      return t;
    });

    public Factory(int maxPacket, PendingRequests pending, dev.sftp.gateway.metrics.GatewayMetrics metrics, Bandwidth bandwidth) {
      this.limits = new Limits(maxPacket, pending, pool, metrics, bandwidth, timer);
      // What MINA's subsystem would shut down when a channel ends must not be the shared pool.
      setExecutorServiceProvider(() -> org.apache.sshd.common.util.threads.ThreadUtils.noClose(pool));
    }

    /** Stops the pool (when the server stops). */
    public void shutdown() {
      timer.shutdownNow();
      pool.shutdownNow();
    }

    public PendingRequests pending() {
      return limits.pending();
    }

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
      GatewaySftpSubsystem s = new GatewaySftpSubsystem(channel, this, slots(channel), limits);
      getRegisteredListeners().forEach(s::addSftpEventListener);
      channel.getSession().computeAttributeIfAbsent(OPEN, k -> java.util.concurrent.ConcurrentHashMap.newKeySet()).add(s);
      return s;
    }
  }

  /**
   * limits@openssh.com tells the largest message this channel accepts ({@code
   * maxSftpPacketBytes}; MINA's would be computed from the write length and exceed it) and the
   * writes that fit in it, 1 KiB below, as OpenSSH's sftp-server says.
   */
  @Override
  protected org.apache.sshd.sftp.client.extensions.openssh.OpenSSHLimitsExtensionInfo getOpenSSHLimitsExtensionInfo(int id, ChannelSession channel)
      throws IOException {
    var info = super.getOpenSSHLimitsExtensionInfo(id, channel);
    info.maxPacketLength = limits.maxPacket();
    info.maxWriteLength = Math.min(info.maxWriteLength, limits.maxPacket() - 1024L);
    return info;
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
    Buffer reply = prepareReply(buffer);
    Statvfs.reply(reply, id, path);
    send(reply);
  }

}
