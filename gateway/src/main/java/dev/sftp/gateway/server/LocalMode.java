package dev.sftp.gateway.server;

import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.ContractJson;
import dev.sftp.contract.KnownHosts;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.UserEntry;
import dev.sftp.gateway.config.HostKeys;
import dev.sftp.gateway.config.HostKeys.HostKey;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.config.keys.KeyUtils;

/**
 * Prepares a self-contained local gateway folder: host keys generated once and kept, a demo user
 * with a password and a key pair (kept too), a data folder, and a {@code known_hosts} file so
 * that {@code sftp} can check the host key without a prompt.
 */
public final class LocalMode {
  static final String USER = "demo";

  private LocalMode() {}

  /** Command-line options of {@code local}. */
  public record Options(Path dir, int port) {
    static Options parse(String[] args) {
      Path dir = Path.of("local");
      int port = ServerSettings.DEFAULT_PORT;
      for (int i = 1; i < args.length; i++) {
        if (args[i].equals("--port") && i + 1 < args.length) {
          port = Integer.parseInt(args[++i]);
        } else {
          dir = Path.of(args[i]);
        }
      }
      return new Options(dir, port);
    }
  }

  /** The prepared folder. */
  public record Prepared(Path dir, Path configDir, Path dataDir, String password, Path clientKey, int port) {
    String instructions(GatewayServer server) {
      int p = server.port();
      Path kh = dir.resolve("known_hosts");
      StringBuilder sb = new StringBuilder();
      sb.append("\nSFTP gateway (local mode) listening on 127.0.0.1:").append(p).append('\n');
      sb.append("  files of user '").append(USER).append("' are in ").append(dataDir.resolve(USER)).append('\n');
      sb.append("  host keys:\n");
      for (HostKey k : server.hostKeys()) {
        sb.append("    ").append(k.fingerprintLine()).append('\n');
      }
      sb.append("\nConnect with the password '").append(password).append("':\n");
      sb.append("  sftp -P ").append(p).append(" -o UserKnownHostsFile=").append(kh).append(' ').append(USER).append("@127.0.0.1\n");
      sb.append("or with the demo key:\n");
      sb.append("  sftp -P ").append(p).append(" -o UserKnownHostsFile=").append(kh).append(" -i ").append(clientKey).append(' ').append(USER).append("@127.0.0.1\n");
      sb.append("\nStop with Ctrl+C. Users are reloaded from ").append(configDir.resolve(ConfigDirectory.MAIN_FILE)).append(" when it changes.\n");
      return sb.toString();
    }
  }

  public static Prepared prepare(Options opts) throws IOException {
    Path dir = opts.dir();
    Path config = dir.resolve("config");
    Path data = dir.resolve("data");
    Files.createDirectories(config);
    Files.createDirectories(data.resolve(USER));

    List<String> keyFiles = new ArrayList<>();
    for (String f : HostKeys.generateMissing(config.resolve("hostkeys"))) {
      keyFiles.add("hostkeys/" + f);
    }

    Path pwFile = dir.resolve("demo-password");
    String password;
    if (Files.exists(pwFile)) {
      password = Files.readString(pwFile).trim();
    } else {
      password = PasswordHashes.randomPassword(16);
      Files.createFile(pwFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(pwFile, password + "\n");
    }

    Path clientKey = dir.resolve("demo_ed25519");
    if (!Files.exists(clientKey)) {
      try {
        KeyPair kp = KeyUtils.generateKeyPair("ssh-ed25519", 256);
        HostKeys.writePrivateKey(clientKey, kp, "demo@sftp-gateway-local");
      } catch (java.security.GeneralSecurityException e) {
        throw new IOException("cannot generate the demo key: " + e.getMessage(), e);
      }
    }
    String clientPub = Files.readString(clientKey.resolveSibling(clientKey.getFileName() + ".pub")).trim();

    Path welcome = data.resolve(USER).resolve("welcome.txt");
    if (!Files.exists(welcome)) {
      Files.writeString(welcome, "Hello from the SFTP gateway. Upload, download, rename and delete here.\n");
    }

    ServerSettings server = ServerSettings.builder().listenAddress("127.0.0.1").port(opts.port()).hostKeys(keyFiles).dataRoot("../data")
        .banner("SFTP gateway (local mode)").build();
    UserEntry demo = UserEntry.of(USER, PasswordHashes.hashArgon2id(password), List.of(clientPub));
    Files.writeString(config.resolve(ConfigDirectory.MAIN_FILE), ContractJson.write(GatewayConfig.of(server, List.of(demo))));

    // known_hosts so that StrictHostKeyChecking works without a prompt.
    List<String> publicKeys = HostKeys.load(config, keyFiles).stream().map(HostKey::publicKeyLine).toList();
    Files.writeString(dir.resolve("known_hosts"), KnownHosts.lines("127.0.0.1", opts.port(), publicKeys));
    return new Prepared(dir, config, data, password, clientKey, opts.port());
  }

}
