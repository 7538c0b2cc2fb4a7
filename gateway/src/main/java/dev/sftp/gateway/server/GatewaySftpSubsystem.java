package dev.sftp.gateway.server;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.session.ServerSession;
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

  public GatewaySftpSubsystem(ChannelSession channel, SftpSubsystemConfigurator configurator) {
    super(channel, configurator);
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
