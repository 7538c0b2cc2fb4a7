package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.gateway.support.RawSftp;
import dev.sftp.gateway.support.TestGateway;
import static dev.sftp.gateway.support.RawSftp.append;
import static dev.sftp.gateway.support.RawSftp.reply;
import static dev.sftp.gateway.support.RawSftp.request;
import static dev.sftp.gateway.support.RawSftp.send;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.sftp.common.SftpConstants;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A client that sends many requests before reading any reply (as lftp and OpenSSH's sftp do)
 * gets every reply, in order, with the right bytes: the gateway sends replies together while
 * more requests are queued, and must neither lose, reorder nor hold one back once the queue is
 * empty. Raw SFTP packets over a MINA subsystem channel, so the test decides the pipelining.
 */
class PipeliningIT {
  @TempDir Path tmp;

  @Test
  void pipelinedRequestsAreAllAnsweredInOrder() throws Exception {
    byte[] content = new byte[3 * 1024 * 1024 + 12345];
    new Random(7).nextBytes(content);
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("pipe", "ed25519"))) {
      Files.createDirectories(gw.home("pipe"));
      Files.write(gw.home("pipe").resolve("f.bin"), content);
      ExecutorService reader = Executors.newSingleThreadExecutor();
      try (RawSftp.Channel ch = new RawSftp.Channel(gw, "pipe")) {
        OutputStream toServer = ch.toServer;
        DataInputStream fromServer = ch.fromServer;

        Buffer open = request(SftpConstants.SSH_FXP_OPEN, 1);
        open.putString("/f.bin");
        open.putUInt(SftpConstants.SSH_FXF_READ);
        open.putUInt(0);
        send(toServer, open);
        Buffer handleReply = new ByteArrayBuffer(reply(fromServer));
        assertThat(handleReply.getUByte()).isEqualTo(SftpConstants.SSH_FXP_HANDLE);
        assertThat(handleReply.getUInt()).isEqualTo(1);
        byte[] handle = handleReply.getBytes();

        // Small replies (LSTAT), 32 KiB reads (lftp's size: a reply just over a packet), 255 KiB
        // reads (OpenSSH's), a read past the end (a status), all in one write; then CLOSE.
        List<long[]> expected = new ArrayList<>(); // {id, type, offset, length}
        ByteArrayBuffer all = new ByteArrayBuffer();
        int id = 2;
        long offset = 0;
        int[] sizes = {32 * 1024, 255 * 1024, 4096};
        for (int i = 0; offset < content.length; i++) {
          int len = (int) Math.min(sizes[i % sizes.length], content.length - offset);
          Buffer read = request(SftpConstants.SSH_FXP_READ, id);
          read.putBytes(handle);
          read.putLong(offset);
          read.putUInt(len);
          append(all, read);
          expected.add(new long[] {id++, SftpConstants.SSH_FXP_DATA, offset, len});
          offset += len;
          Buffer lstat = request(SftpConstants.SSH_FXP_LSTAT, id);
          lstat.putString("/f.bin");
          append(all, lstat);
          expected.add(new long[] {id++, SftpConstants.SSH_FXP_ATTRS, 0, 0});
        }
        Buffer eof = request(SftpConstants.SSH_FXP_READ, id);
        eof.putBytes(handle);
        eof.putLong(content.length);
        eof.putUInt(4096);
        append(all, eof);
        expected.add(new long[] {id++, SftpConstants.SSH_FXP_STATUS, SftpConstants.SSH_FX_EOF, 0});
        Buffer close = request(SftpConstants.SSH_FXP_CLOSE, id);
        close.putBytes(handle);
        append(all, close);
        expected.add(new long[] {id++, SftpConstants.SSH_FXP_STATUS, SftpConstants.SSH_FX_OK, 0});

        // Read on another thread while writing: the replies may fill the channel's window first.
        Future<List<byte[]>> replies = reader.submit(() -> {
          List<byte[]> out = new ArrayList<>();
          for (int i = 0; i < expected.size(); i++) {
            out.add(reply(fromServer));
          }
          return out;
        });
        toServer.write(all.array(), all.rpos(), all.available());
        toServer.flush();
        List<byte[]> got = replies.get(60, TimeUnit.SECONDS);

        for (int i = 0; i < expected.size(); i++) {
          long[] e = expected.get(i);
          Buffer r = new ByteArrayBuffer(got.get(i));
          assertThat(r.getUByte()).as("type of reply %d", i).isEqualTo((int) e[1]);
          assertThat(r.getUInt()).as("id of reply %d", i).isEqualTo(e[0]);
          if (e[1] == SftpConstants.SSH_FXP_DATA) {
            byte[] data = r.getBytes();
            assertThat(data).as("data of reply %d", i).isEqualTo(Arrays.copyOfRange(content, (int) e[2], (int) (e[2] + e[3])));
          } else if (e[1] == SftpConstants.SSH_FXP_STATUS) {
            assertThat(r.getUInt()).as("status of reply %d", i).isEqualTo(e[2]);
          }
        }
      } finally {
        reader.shutdownNow();
      }
    }
  }
}
