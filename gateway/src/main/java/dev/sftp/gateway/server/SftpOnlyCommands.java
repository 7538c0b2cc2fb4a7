package dev.sftp.gateway.server;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.apache.sshd.server.shell.ShellFactory;

/**
 * Answers shell and exec requests with a one-line refusal on stderr and exit status 1, as
 * OpenSSH's {@code ForceCommand internal-sftp} setups tell users. Legacy SCP ({@code scp -O}) is
 * an exec of {@code scp} and gets a hint to use the SFTP mode instead.
 */
public class SftpOnlyCommands implements ShellFactory, CommandFactory {
  static final String REFUSAL = "This service allows SFTP connections only.";
  static final String SCP_HINT = "Legacy SCP (scp -O) is not supported: use scp without -O (SFTP mode, the default since OpenSSH 9.0) or sftp.";

  @Override
  public Command createShell(ChannelSession channel) {
    return new Refusal(REFUSAL);
  }

  @Override
  public Command createCommand(ChannelSession channel, String command) {
    String c = command == null ? "" : command.trim();
    return new Refusal(c.equals("scp") || c.startsWith("scp ") ? SCP_HINT : REFUSAL);
  }

  private static final class Refusal implements Command {
    private final String message;
    private OutputStream err;
    private ExitCallback exit;

    Refusal(String message) {
      this.message = message;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
      this.exit = callback;
    }

    @Override
    public void setErrorStream(OutputStream err) {
      this.err = err;
    }

    @Override
    public void setInputStream(InputStream in) {}

    @Override
    public void setOutputStream(OutputStream out) {}

    @Override
    public void start(ChannelSession channel, Environment env) throws IOException {
      err.write((message + "\r\n").getBytes(StandardCharsets.UTF_8));
      err.flush();
      exit.onExit(1, message);
    }

    @Override
    public void destroy(ChannelSession channel) {}
  }
}
