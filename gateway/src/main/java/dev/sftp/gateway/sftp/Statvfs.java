package dev.sftp.gateway.sftp;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.sftp.common.SftpConstants;

/**
 * {@code statvfs@openssh.com} and {@code fstatvfs@openssh.com} (OpenSSH's PROTOCOL file, section
 * 4.4), which OpenSSH clients use for {@code df} and MINA's server lacks: the reply, from what
 * NIO knows of the file's store.
 */
final class Statvfs {
  static final String STATVFS = "statvfs@openssh.com";
  static final String FSTATVFS = "fstatvfs@openssh.com";
  private static final long ST_RDONLY = 0x1;
  private static final long ST_NOSUID = 0x2;

  private Statvfs() {}

  /** Writes the extended reply for {@code path} into {@code reply} (already prepared). */
  static void reply(Buffer reply, int id, Path path) throws IOException {
    FileStore store = Files.getFileStore(path);
    long bsize = Math.max(1, store.getBlockSize());
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
    reply.putLong(ST_NOSUID | (store.isReadOnly() ? ST_RDONLY : 0)); // f_flag
    reply.putLong(255); // f_namemax
  }
}
