package dev.sftp.gateway.sftp;

import static dev.sftp.gateway.support.RawSftp.reply;
import static dev.sftp.gateway.support.RawSftp.request;
import static dev.sftp.gateway.support.RawSftp.send;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.gateway.support.RawSftp;
import dev.sftp.gateway.support.TestGateway;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.server.session.ServerSession;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.sftp.server.SftpEventListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which thread runs a request: a short one, sent when the channel's SFTP thread is idle, runs on
 * the I/O thread that read it; an extended one (no bound on its time) on the channel's thread;
 * and once a request took long inline, the channel's later requests go to its thread. A
 * listener records the thread of each request id (MINA calls {@code received} on the thread
 * that processes the request).
 */
class InlineRequestsIT {
  @TempDir Path tmp;

  @Test
  void shortRequestsRunInlineUntilOneIsSlow() throws Exception {
    Map<Integer, String> threadOf = new ConcurrentHashMap<>();
    int slowId = 100;
    int backInline = -1;
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), TestGateway.user("inl", "ed25519"))) {
      Files.createDirectories(gw.home("inl"));
      Files.writeString(gw.home("inl").resolve("f.txt"), "hello");
      gw.server().sftpFactory().addSftpEventListener(new SftpEventListener() {
        @Override
        public void received(ServerSession session, int type, int id) {
          threadOf.put(id, Thread.currentThread().getName());
          if (id == slowId) {
            try {
              Thread.sleep(GatewaySftpSubsystem.INLINE_SLOW_NANOS / 1_000_000 + 20);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        }
      });
      try (RawSftp.Channel ch = new RawSftp.Channel(gw, "inl")) {
        OutputStream toServer = ch.toServer;
        DataInputStream fromServer = ch.fromServer;

        // One request at a time, each answered before the next is sent.
        for (int id = 1; id <= 5; id++) {
          assertThat(lstat(toServer, fromServer, id, "/f.txt")).isEqualTo(5);
        }
        Buffer statvfs = request(SftpConstants.SSH_FXP_EXTENDED, 10);
        statvfs.putString(GatewaySftpSubsystem.STATVFS);
        statvfs.putString("/");
        send(toServer, statvfs);
        Buffer r = new ByteArrayBuffer(reply(fromServer));
        assertThat(r.getUByte()).isEqualTo(SftpConstants.SSH_FXP_EXTENDED_REPLY);
        assertThat(r.getUInt()).isEqualTo(10);
        // The channel's thread finishes the extended request just after its reply is sent: the
        // next request may still go there, and a later one runs inline again.
        for (int id = 11; id < 60 && backInline < 0; id++) {
          assertThat(lstat(toServer, fromServer, id, "/f.txt")).isEqualTo(5);
          if (threadOf.get(id).contains("nio2")) {
            backInline = id;
          }
        }

        assertThat(lstat(toServer, fromServer, slowId, "/f.txt")).isEqualTo(5);
        for (int id = slowId + 1; id <= slowId + 3; id++) {
          assertThat(lstat(toServer, fromServer, id, "/f.txt")).isEqualTo(5);
        }
      }
    }
    // Queued requests run on the server's shared SFTP pool (a thread only while there are some).
    assertThat(threadOf.get(10)).as("the extended request's thread").contains("sftp-thread").doesNotContain("nio2");
    assertThat(backInline).as("a request after the extended one that ran inline").isPositive();
    for (int id : new int[] {1, 2, 3, 4, 5, backInline, slowId}) {
      assertThat(threadOf.get(id)).as("thread of request %d", id).contains("nio2");
    }
    for (int id = slowId + 1; id <= slowId + 3; id++) {
      assertThat(threadOf.get(id)).as("thread of request %d, after the slow one", id).contains("sftp-thread").doesNotContain("nio2");
    }
  }

  /** LSTAT, answered before returning: the file's size. */
  private static long lstat(OutputStream out, DataInputStream in, int id, String path) throws Exception {
    Buffer b = request(SftpConstants.SSH_FXP_LSTAT, id);
    b.putString(path);
    send(out, b);
    Buffer r = new ByteArrayBuffer(reply(in));
    assertThat(r.getUByte()).as("reply to %d", id).isEqualTo(SftpConstants.SSH_FXP_ATTRS);
    assertThat(r.getUInt()).isEqualTo(id);
    int flags = r.getInt();
    assertThat(flags & SftpConstants.SSH_FILEXFER_ATTR_SIZE).isNotZero();
    return r.getLong();
  }
}
