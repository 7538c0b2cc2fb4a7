package dev.sftp.gateway.support;

import java.io.DataInputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Arrays;
import dev.sftp.gateway.support.Clients.Login;
import org.apache.sshd.client.SshClient;
import org.apache.sshd.client.channel.ChannelSubsystem;
import org.apache.sshd.client.keyverifier.AcceptAllServerKeyVerifier;
import org.apache.sshd.client.session.ClientSession;
import org.apache.sshd.common.keyprovider.FileKeyPairProvider;
import org.apache.sshd.sftp.common.SftpConstants;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.BufferUtils;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;

/** SFTP packets by hand, for tests that decide exactly what goes on the wire and when. */
public final class RawSftp {
  private RawSftp() {}

  /** An SFTP channel of a MINA client logged in with the user's ed25519 key, after INIT/VERSION 3. */
  public static final class Channel implements AutoCloseable {
    private final SshClient client;
    private final ClientSession session;
    private final ChannelSubsystem channel;
    public final OutputStream toServer;
    public final DataInputStream fromServer;

    public Channel(TestGateway gw, String user) throws Exception {
      client = SshClient.setUpDefaultClient();
      client.setServerKeyVerifier(AcceptAllServerKeyVerifier.INSTANCE);
      client.setKeyIdentityProvider(new FileKeyPairProvider(Login.key(user, "ed25519").key()));
      client.start();
      try {
        session = client.connect(user, "127.0.0.1", gw.port()).verify(Duration.ofSeconds(20)).getSession();
        session.auth().verify(Duration.ofSeconds(20));
        channel = session.createSubsystemChannel("sftp");
        channel.open().verify(Duration.ofSeconds(20));
        toServer = channel.getInvertedIn();
        fromServer = new DataInputStream(channel.getInvertedOut());
        Buffer init = packet(SftpConstants.SSH_FXP_INIT);
        init.putUInt(3);
        send(toServer, init);
        byte[] version = reply(fromServer);
        if (version[0] != SftpConstants.SSH_FXP_VERSION) {
          throw new IllegalStateException("no SSH_FXP_VERSION but " + version[0]);
        }
      } catch (Exception | Error e) {
        client.stop();
        throw e;
      }
    }

    @Override
    public void close() throws Exception {
      try {
        channel.close(false);
        session.close();
      } finally {
        client.stop();
      }
    }
  }

  public static Buffer packet(int type) {
    Buffer b = new ByteArrayBuffer();
    b.putUInt(0); // length, set by send/append
    b.putByte((byte) type);
    return b;
  }

  public static Buffer request(int type, int id) {
    Buffer b = packet(type);
    b.putUInt(id);
    return b;
  }

  public static void append(ByteArrayBuffer all, Buffer b) {
    all.putRawBytes(framed(b));
  }

  public static void send(OutputStream out, Buffer b) throws Exception {
    out.write(framed(b));
    out.flush();
  }

  /** The packet's bytes with its length filled in (the same MINA helper the gateway's send uses). */
  public static byte[] framed(Buffer b) {
    BufferUtils.updateLengthPlaceholder(b, b.rpos());
    return Arrays.copyOfRange(b.array(), b.rpos(), b.wpos());
  }

  /** One SFTP packet from the server, without its length. */
  public static byte[] reply(DataInputStream in) throws Exception {
    int len = in.readInt();
    byte[] b = new byte[len];
    in.readFully(b);
    return b;
  }
}
