package dev.sftp.gateway.support;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.SetstatMode;
import dev.sftp.contract.UserEntry;
import dev.sftp.gateway.server.GatewayServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.sshd.common.config.keys.PublicKeyEntry;

/**
 * A real gateway on 127.0.0.1 and a free port, from a config directory written like the
 * operator's, with host keys made by {@code ssh-keygen}. Stopped by {@link #close()}.
 */
public final class TestGateway implements AutoCloseable {
  /** The password every test user with a password has, unless a test says otherwise. */
  public static final String PASSWORD = "correct horse battery staple";

  private static final Map<String, String> HASHES = new ConcurrentHashMap<>();

  public final Path root;
  public final Path configDir;
  public final Path dataDir;
  public final Path knownHosts;
  private ServerSettings settings;
  private List<UserEntry> users;
  private GatewayServer server;

  private TestGateway(Path root, ServerSettings settings, List<UserEntry> users) {
    this.root = root;
    this.configDir = root.resolve("config");
    this.dataDir = root.resolve("data");
    this.knownHosts = root.resolve("known_hosts");
    this.settings = settings;
    this.users = new ArrayList<>(users);
  }

  /** Server settings with test host keys and the given setstat mode. */
  public static ServerSettings settings(SetstatMode setstat) {
    return ServerSettings.builder().hostKeys(List.of("keys/ssh_host_ed25519_key", "keys/ssh_host_ecdsa_key")).dataRoot("../data").setstatMode(setstat).build();
  }

  public static TestGateway start(Path root, UserEntry... users) {
    return start(root, settings(null), users);
  }

  public static TestGateway start(Path root, ServerSettings settings, UserEntry... users) {
    return start(root, settings, null, users);
  }

  /** As {@link #start(Path, ServerSettings, UserEntry...)}, also following user Secrets through an API. */
  public static TestGateway start(Path root, ServerSettings settings, dev.sftp.gateway.users.SecretWatch.Settings watch, UserEntry... users) {
    return start(root, settings, watch, null, users);
  }

  /** As above, also reporting what it serves. */
  public static TestGateway start(Path root, ServerSettings settings, dev.sftp.gateway.users.SecretWatch.Settings watch,
      dev.sftp.gateway.users.ServingReporter.Settings report, UserEntry... users) {
    TestGateway gw = new TestGateway(root, settings, List.of(users));
    try {
      Files.createDirectories(gw.configDir.resolve("keys"));
      Keys.generate("ed25519", gw.configDir.resolve("keys/ssh_host_ed25519_key"));
      Keys.generate("ecdsa", gw.configDir.resolve("keys/ssh_host_ecdsa_key"));
      gw.writeConfig();
      // Reloads are driven by the tests (reloadNow) so that they never wait on a timer.
      gw.server = new GatewayServer(gw.configDir, new GatewayServer.Overrides("127.0.0.1", 0), Duration.ZERO)
          .metrics(new dev.sftp.gateway.metrics.GatewayMetrics(gw.prometheus));
      if (watch != null) {
        gw.server.followSecrets(watch);
      }
      if (report != null) {
        gw.server.reportServing(report);
      }
      gw.server.start();
      StringBuilder kh = new StringBuilder();
      gw.server.hostKeys().forEach(k -> kh.append("[127.0.0.1]:").append(gw.port()).append(' ').append(PublicKeyEntry.toString(k.publicKey())).append('\n'));
      Files.writeString(gw.knownHosts, kh.toString());
      return gw;
    } catch (Exception e) {
      throw new IllegalStateException("gateway did not start", e);
    }
  }

  /** A user with the test password and the given keys, home named after the user. */
  public static UserEntry user(String name, String... keyKinds) {
    List<String> keys = new ArrayList<>();
    for (String k : keyKinds) {
      keys.add(Keys.publicLine(k));
    }
    return UserEntry.of(name, hash(PASSWORD), keys);
  }

  public static String hash(String password) {
    return HASHES.computeIfAbsent(password, PasswordHashes::hashArgon2id);
  }

  /** The server's metrics, as Prometheus would scrape them. */
  public final io.micrometer.prometheus.PrometheusMeterRegistry prometheus =
      new io.micrometer.prometheus.PrometheusMeterRegistry(io.micrometer.prometheus.PrometheusConfig.DEFAULT);

  public String scrape() {
    return prometheus.scrape();
  }

  public int port() {
    return server.port();
  }

  public GatewayServer server() {
    return server;
  }

  public Path home(String user) {
    return dataDir.resolve(user);
  }

  /** Replaces the users and reloads them into the running gateway. */
  public void setUsers(UserEntry... users) {
    this.users = new ArrayList<>(List.of(users));
    writeConfig();
    reloadNow();
  }

  public void reloadNow() {
    try {
      server.reload();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  public void writeConfig() {
    try {
      Files.writeString(configDir.resolve("gateway.json"), ContractJson.write(GatewayConfig.of(settings, users)));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws IOException {
    if (server != null) {
      server.close();
    }
  }
}
