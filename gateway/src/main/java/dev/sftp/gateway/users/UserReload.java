package dev.sftp.gateway.users;

import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.ContractException;
import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.config.ConfigFiles;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Logger;

/**
 * Keeps the {@link UserRegistry} in step with the config directory while the server runs: on a
 * timer (the mounted files, which the kubelet refreshes on its own schedule) and, when the
 * gateway follows its user Secrets through the API ({@link SecretWatch}), as soon as one changes.
 * Reloads run on one thread; a document that cannot be read keeps the current users.
 */
public final class UserReload implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(UserReload.class.getName());

  private final Path configDir;
  private final Path dataRoot;
  private final ServerSettings settings;
  private final UserRegistry registry;
  private final Consumer<Set<String>> onChanged;
  private String digest;
  private ScheduledExecutorService thread;
  /** Read by the reload thread; set once by {@link #start}. */
  private volatile SecretWatch watch;
  /** Told what is served after every load; null when the gateway reports to nobody. */
  private volatile ServingReporter reporter;
  private final java.util.Map<String, String> startLists;

  /**
   * @param loaded what the server started with (its users are already in the registry)
   * @param onChanged told the names of users removed or changed by a reload, whose sessions end
   */
  public UserReload(Path configDir, Path dataRoot, ConfigDirectory.Loaded loaded, UserRegistry registry, Consumer<Set<String>> onChanged) {
    this.configDir = configDir;
    this.dataRoot = dataRoot;
    this.settings = loaded.server();
    this.digest = loaded.digest();
    this.startLists = loaded.userLists();
    this.registry = registry;
    this.onChanged = onChanged;
  }

  /**
   * Starts reloading every {@code interval} (zero: never) and on changes of the watched Secrets
   * (null: none), and reports what is served after each load (null: to nobody), with the usage
   * of homes with a quota.
   */
  public synchronized void start(Duration interval, SecretWatch.Settings secrets, ServingReporter.Settings report,
      java.util.function.Supplier<java.util.Map<String, dev.sftp.contract.ServingReport.HomeUsage>> usage) {
    if (report != null) {
      reporter = new ServingReporter(report, usage);
      reporter.served(startLists);
    }
    if (interval.isZero() && secrets == null) {
      return;
    }
    ScheduledExecutorService t = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread th = new Thread(r, "config-reload");
      th.setDaemon(true);
      return th;
    });
    thread = t;
    if (!interval.isZero()) {
      long ms = interval.toMillis();
      t.scheduleWithFixedDelay(this::reloadQuietly, ms, ms, TimeUnit.MILLISECONDS);
    }
    if (secrets != null) {
      watch = new SecretWatch(secrets.client(), secrets.namespace(), secrets.secrets(), () -> {
        if (!t.isShutdown()) {
          t.execute(this::reloadQuietly);
        }
      });
      // The watch may have listed everything before the field above was set: look once now.
      t.execute(this::reloadQuietly);
    }
  }

  /** Re-reads the users if any file changed; returns whether it did. */
  /** Loads that changed the users, and loads refused (the users stayed), since the start. */
  public final java.util.concurrent.atomic.AtomicLong reloads = new java.util.concurrent.atomic.AtomicLong();
  public final java.util.concurrent.atomic.AtomicLong refused = new java.util.concurrent.atomic.AtomicLong();

  public synchronized boolean reload() throws ContractException {
    SecretWatch w = watch;
    ConfigDirectory.Loaded loaded;
    try {
      loaded = ConfigFiles.load(configDir, w == null ? null : w.snapshot());
    } catch (ContractException | RuntimeException e) {
      refused.incrementAndGet();
      throw e;
    }
    if (loaded.digest().equals(digest)) {
      return false;
    }
    digest = loaded.digest();
    if (!loaded.server().equals(settings)) {
      LOG.warning("server settings changed in " + configDir + "; they take effect at the next restart (users are reloaded now)");
    }
    Set<String> changed = registry.replace(dataRoot, loaded.users(), loaded.userErrors());
    reloads.incrementAndGet();
    if (!changed.isEmpty()) {
      onChanged.accept(changed);
    }
    ServingReporter r = reporter;
    if (r != null) {
      r.served(loaded.userLists());
    }
    return true;
  }

  private void reloadQuietly() {
    try {
      reload();
    } catch (ContractException e) {
      LOG.warning("configuration not reloaded, keeping the current users: " + e.getMessage());
    } catch (RuntimeException e) {
      LOG.warning("configuration not reloaded: " + e);
    }
  }

  @Override
  public synchronized void close() {
    if (thread != null) {
      thread.shutdownNow();
    }
    if (watch != null) {
      watch.close();
    }
    if (reporter != null) {
      reporter.close();
    }
  }
}
