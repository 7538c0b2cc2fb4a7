package dev.sftp.gateway.server;

import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntUnaryOperator;
import org.apache.sshd.common.util.ValidateUtils;
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
public class GatewaySftpSubsystem extends SftpSubsystem {
  static final String STATVFS = "statvfs@openssh.com";
  static final String FSTATVFS = "fstatvfs@openssh.com";
  private static final long ST_NOSUID = 0x2;
  /** At most this many reply bytes are held back to be sent with the next ones. */
  static final int MAX_HELD_BYTES = Integer.getInteger("gateway.sftp.coalesce-bytes", 256 * 1024);

  /** Replies not sent yet: more requests were queued when they were made (see {@link #send}). */
  private final List<Buffer> held = new ArrayList<>();
  private int heldBytes;

  public GatewaySftpSubsystem(ChannelSession channel, SftpSubsystemConfigurator configurator) {
    super(channel, configurator);
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
    if (next == null || next == CLOSE || heldBytes > MAX_HELD_BYTES / 2) {
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
    @Override
    public Command createSubsystem(ChannelSession channel) throws IOException {
      GatewaySftpSubsystem s = new GatewaySftpSubsystem(channel, this);
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
