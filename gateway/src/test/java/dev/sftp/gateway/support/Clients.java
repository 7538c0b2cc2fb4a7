package dev.sftp.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Command lines of the real clients installed from Debian: OpenSSH {@code sftp}, {@code scp},
 * {@code ssh}, {@code lftp}, {@code curl} and python3 paramiko. Host keys are always checked
 * against the gateway's known_hosts (except where a client cannot be told to).
 */
public final class Clients {
  public static final Duration TIMEOUT = Duration.ofSeconds(120);
  private static Path askpass;

  private Clients() {}

  /** How a client authenticates: with a key file, or with a password. */
  public record Login(String user, Path key, String password) {
    public static Login key(String user, String kind) {
      return new Login(user, Keys.key(kind), null);
    }

    public static Login password(String user, String password) {
      return new Login(user, null, password);
    }
  }

  /** Common OpenSSH options: no user config, strict host key checking, no agent. */
  static List<String> sshOptions(TestGateway gw, Login login) {
    List<String> o = new ArrayList<>(List.of(
        "-F", "/dev/null",
        "-o", "StrictHostKeyChecking=yes",
        "-o", "UserKnownHostsFile=" + gw.knownHosts,
        "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "IdentityAgent=none",
        "-o", "ConnectTimeout=20",
        "-o", "LogLevel=ERROR"));
    if (login.key() != null) {
      o.addAll(List.of("-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", "PasswordAuthentication=no",
          "-o", "KbdInteractiveAuthentication=no", "-i", login.key().toString()));
    } else {
      o.addAll(List.of("-o", "BatchMode=no", "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1"));
    }
    return o;
  }

  public static Map<String, String> env(Login login) {
    Map<String, String> env = new HashMap<>();
    if (login.password() != null) {
      env.put("SSH_ASKPASS", askpass().toString());
      env.put("SSH_ASKPASS_REQUIRE", "force");
      env.put("DISPLAY", ":0");
      env.put("SFTP_TEST_PASSWORD", login.password());
    }
    return env;
  }

  /** Runs {@code sftp -b -} with the given commands (prefix a command with '-' to ignore its failure). */
  public static Proc.Result sftp(TestGateway gw, Login login, String... commands) {
    return sftpWith(gw, login, List.of(), commands);
  }

  public static Proc.Result sftpWith(TestGateway gw, Login login, List<String> extraOptions, String... commands) {
    List<String> cmd = new ArrayList<>(List.of("sftp", "-P", String.valueOf(gw.port())));
    cmd.addAll(extraOptions); // first: for OpenSSH the first value of an option wins
    cmd.addAll(sshOptions(gw, login));
    cmd.addAll(List.of("-b", "-", login.user() + "@127.0.0.1"));
    return Proc.run(cmd, env(login), String.join("\n", commands) + "\n", TIMEOUT);
  }

  /** Command line of {@code sftp -b BATCHFILE}, to start as a process a test may interrupt. */
  public static List<String> sftpCommand(TestGateway gw, Login login, Path batch, String... extra) {
    List<String> cmd = new ArrayList<>(List.of("sftp", "-P", String.valueOf(gw.port())));
    cmd.addAll(sshOptions(gw, login));
    cmd.addAll(List.of(extra));
    cmd.addAll(List.of("-b", batch.toString(), login.user() + "@127.0.0.1"));
    return cmd;
  }

  public static Proc.Result scp(TestGateway gw, Login login, String... args) {
    List<String> cmd = new ArrayList<>(List.of("scp", "-P", String.valueOf(gw.port())));
    cmd.addAll(sshOptions(gw, login));
    cmd.addAll(List.of(args));
    return Proc.run(cmd, env(login), null, TIMEOUT);
  }

  public static Proc.Result ssh(TestGateway gw, Login login, String... args) {
    List<String> cmd = new ArrayList<>(List.of("ssh", "-p", String.valueOf(gw.port())));
    cmd.addAll(sshOptions(gw, login));
    cmd.addAll(List.of(args));
    return Proc.run(cmd, env(login), "", TIMEOUT);
  }

  /** Runs lftp's sftp protocol (which drives the OpenSSH client) with the given commands. */
  public static Proc.Result lftp(TestGateway gw, Login login, String... commands) {
    StringBuilder connect = new StringBuilder("ssh -a -x -F /dev/null -o StrictHostKeyChecking=yes -o UserKnownHostsFile=")
        .append(gw.knownHosts).append(" -o GlobalKnownHostsFile=/dev/null -o IdentityAgent=none");
    if (login.key() != null) {
      connect.append(" -o IdentitiesOnly=yes -o PasswordAuthentication=no -i ").append(login.key());
    } else {
      connect.append(" -o PubkeyAuthentication=no");
    }
    String script = "set cmd:fail-exit yes; set net:max-retries 1; set net:timeout 20; set xfer:clobber on; "
        + "set sftp:connect-program \"" + connect + "\"; "
        + "open -u \"" + login.user() + "," + (login.password() == null ? "" : login.password()) + "\""
        + " -p " + gw.port() + " sftp://127.0.0.1; " + String.join("; ", commands) + "; bye";
    return Proc.run(List.of("lftp", "-c", script), Map.of("HOME", gw.root.toString()), null, TIMEOUT);
  }

  /** Runs curl (libssh2) against an sftp:// URL path, with extra arguments. */
  public static Proc.Result curl(TestGateway gw, Login login, String path, String... args) {
    List<String> cmd = new ArrayList<>(List.of("curl", "-sS", "--connect-timeout", "20", "--max-time", "120",
        "--hostpubsha256", hostKeySha256(gw)));
    if (login.key() != null) {
      cmd.addAll(List.of("-u", login.user() + ":", "--key", login.key().toString(), "--pubkey", login.key() + ".pub"));
    } else {
      cmd.addAll(List.of("-u", login.user() + ":" + login.password()));
    }
    cmd.addAll(List.of(args));
    cmd.add("sftp://127.0.0.1:" + gw.port() + path);
    return Proc.run(cmd, Map.of(), null, TIMEOUT);
  }

  /** Runs a python3 paramiko script; the script gets HOST, PORT, USER, PASSWORD, KEY, HOSTKEYS in os.environ. */
  public static Proc.Result paramiko(TestGateway gw, Login login, String script) {
    Map<String, String> env = new HashMap<>();
    env.put("PORT", String.valueOf(gw.port()));
    env.put("USER_NAME", login.user());
    env.put("PASSWORD", login.password() == null ? "" : login.password());
    env.put("KEY", login.key() == null ? "" : login.key().toString());
    env.put("HOSTKEYS", gw.knownHosts.toString());
    String prelude = """
        import os, sys, io, hashlib, stat, paramiko
        client = paramiko.SSHClient()
        client.load_host_keys(os.environ['HOSTKEYS'])
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        kw = dict(hostname='127.0.0.1', port=int(os.environ['PORT']), username=os.environ['USER_NAME'],
                  allow_agent=False, look_for_keys=False, timeout=20, banner_timeout=20, auth_timeout=20)
        if os.environ['KEY']:
            kw['key_filename'] = os.environ['KEY']
        else:
            kw['password'] = os.environ['PASSWORD']
        """;
    return Proc.run(List.of("/usr/bin/python3", "-c", prelude + script), env, null, TIMEOUT);
  }

  /**
   * The base64 SHA-256 of the host key curl will see, as its --hostpubsha256 wants it. libssh2
   * (1.10) prefers ECDSA host keys over ed25519, when they are offered (the Compatible profile).
   */
  static String hostKeySha256(TestGateway gw) {
    var offered = gw.server().offeredHostKeys();
    return offered.stream().filter(k -> k.publicKeyLine().startsWith("ecdsa-")).findFirst()
        .or(() -> offered.stream().filter(k -> k.publicKeyLine().startsWith("ssh-ed25519")).findFirst())
        .orElseThrow()
        .sha256()
        .substring("SHA256:".length());
  }

  private static synchronized Path askpass() {
    if (askpass == null) {
      try {
        askpass = Files.createTempFile("askpass", ".sh", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Files.writeString(askpass, "#!/bin/sh\nprintf '%s\\n' \"$SFTP_TEST_PASSWORD\"\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return askpass;
  }
}
