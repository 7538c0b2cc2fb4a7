package dev.sftp.gateway.server;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.sftp.contract.AlgorithmProfile;
import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.ContractException;
import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.audit.AuditLog;
import dev.sftp.gateway.audit.AuditSftpListener;
import dev.sftp.gateway.auth.Defender;
import dev.sftp.gateway.auth.GatewayAuthenticator;
import dev.sftp.gateway.users.UserRegistry;
import dev.sftp.gateway.users.UserReload;
import dev.sftp.gateway.config.ConfigFiles;
import dev.sftp.gateway.config.HostKeys;
import dev.sftp.gateway.users.SecretWatch;
import dev.sftp.gateway.config.HostKeys.HostKey;
import dev.sftp.gateway.fs.ConfinedFileSystemAccessor;
import dev.sftp.gateway.fs.Beneath;
import dev.sftp.gateway.fs.HomeFileSystemFactory;
import dev.sftp.gateway.sftp.GatewaySftpSubsystem;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Logger;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.PropertyResolverUtils;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.kex.BuiltinDHFactories;
import org.apache.sshd.common.kex.DHFactory;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.common.mac.BuiltinMacs;
import org.apache.sshd.common.mac.Mac;
import org.apache.sshd.common.session.Session;
import org.apache.sshd.common.session.SessionListener;
import org.apache.sshd.common.session.helpers.AbstractSession;
import org.apache.sshd.common.signature.BuiltinSignatures;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.core.CoreModuleProperties;
import org.apache.sshd.server.ServerBuilder;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.keyboard.DefaultKeyboardInteractiveAuthenticator;
import org.apache.sshd.server.forward.RejectAllForwardingFilter;
import org.apache.sshd.sftp.server.SftpSubsystemFactory;

/**
 * The SFTP gateway: a MINA SSHD server built from a config directory. Users are reloaded while
 * it runs; server settings and host keys are read once at start.
 */
public class GatewayServer implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(GatewayServer.class.getName());
  /** MINA's key (SftpFileSystemAccessor.closeFile) for fsync on close; its default is true. */
  private static final String FSYNC_ON_CLOSE = org.apache.sshd.sftp.server.SftpFileSystemAccessor.PROP_AUTO_SYNC_FILE_ON_CLOSE;

  /**
   * Local replacements for what the document says about this machine: where to listen, and where
   * the volume is mounted (the document says {@code /data}, where the pod mounts it).
   */
  public record Overrides(String host, Integer port, Path dataRoot) {
    public static final Overrides NONE = new Overrides(null, null, null);

    public Overrides(String host, Integer port) {
      this(host, port, null);
    }
  }

  private final Path configDir;
  private final Overrides overrides;
  private final Duration reloadInterval;
  private final UserRegistry registry = new UserRegistry();
  private SshServer sshd;
  private GatewaySftpSubsystem.Factory sftp;
  private dev.sftp.gateway.fs.Descriptors descriptors;
  private dev.sftp.gateway.fs.Quotas quotas;
  private java.util.concurrent.ScheduledExecutorService userMetricsTimer;
  private ServerSettings settings;
  private Path dataRoot;
  private List<HostKey> hostKeys = List.of();
  private UserReload reload;
  private Defender defender;
  private dev.sftp.gateway.metrics.GatewayMetrics metrics = dev.sftp.gateway.metrics.GatewayMetrics.none();

  /** Where the server's metrics go (before {@link #start}); by default nowhere. */
  public GatewayServer metrics(dev.sftp.gateway.metrics.GatewayMetrics m) {
    this.metrics = m;
    return this;
  }

  public dev.sftp.gateway.metrics.GatewayMetrics metrics() {
    return metrics;
  }
  private java.util.concurrent.ThreadPoolExecutor passwordChecks;

  /**
   * Where passwords are checked: half the cores (at least 1) and a queue of 64 per thread (about
   * 4 s of work), so that a flood of guesses (each an argon2id verification, ~60 ms of CPU) never
   * runs on, nor waits behind, the I/O threads that carry every session's traffic, and leaves
   * half the cores to them; a check that finds the queue full fails. (With 2 threads on 2 cores a
   * flood took both: a download ran at 0.45 of its speed, bench "flood".)
   */
  private static java.util.concurrent.ThreadPoolExecutor passwordCheckPool() {
    int threads = Math.max(1, Runtime.getRuntime().availableProcessors() / 2);
    java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
    return new java.util.concurrent.ThreadPoolExecutor(threads, threads, 30, java.util.concurrent.TimeUnit.SECONDS,
        new java.util.concurrent.ArrayBlockingQueue<>(64 * threads), r -> {
          Thread t = new Thread(r, "password-check-" + n.incrementAndGet());
          t.setDaemon(true);
          return t;
        }, new java.util.concurrent.ThreadPoolExecutor.AbortPolicy());
  }

  /** The defender (for tests and diagnostics). */
  public Defender defender() {
    return defender;
  }
  private SecretWatch.Settings watchSettings;
  private dev.sftp.gateway.users.ServingReporter.Settings reportSettings;

  public GatewayServer(Path configDir, Overrides overrides, Duration reloadInterval) {
    this.configDir = configDir.toAbsolutePath();
    this.overrides = overrides;
    this.reloadInterval = reloadInterval;
  }

  /**
   * Follow the user Secrets through the Kubernetes API too (call before {@link #start()}): a
   * change is applied as soon as the API reports it, not when the kubelet refreshes the volume.
   */
  public synchronized void followSecrets(SecretWatch.Settings settings) {
    this.watchSettings = settings;
  }

  /**
   * Report the user lists served after every load to the operator (call before {@link #start()}),
   * which marks users Ready only once every ready pod serves them.
   */
  public synchronized void reportServing(dev.sftp.gateway.users.ServingReporter.Settings settings) {
    this.reportSettings = settings;
  }

  /**
   * Reads the config directory and starts listening.
   *
   * @throws ContractException when the gateway document cannot be used
   * @throws IOException when host keys cannot be read or the port cannot be bound
   */
  public synchronized void start() throws ContractException, IOException {
    String names = System.getProperty("sun.jnu.encoding");
    if (names == null || !names.equalsIgnoreCase("UTF-8")) {
      LOG.warning("file names are decoded as " + names + ", not UTF-8 (SFTP's encoding): names with non-ASCII characters cannot be listed"
          + " or opened; run with a UTF-8 locale (LANG=C.UTF-8, as the operator's Deployment sets)");
    }
    ConfigDirectory.Loaded loaded = ConfigFiles.load(configDir);
    settings = loaded.server();
    dataRoot = overrides.dataRoot() != null ? overrides.dataRoot().toAbsolutePath().normalize() : configDir.resolve(settings.dataRootOrDefault()).normalize();
    Files.createDirectories(dataRoot);
    // Real: every home is checked to be exactly where the contract puts it below this path.
    dataRoot = dataRoot.toRealPath();
    Beneath beneath = Beneath.of(dataRoot, Boolean.getBoolean("gateway.confinement.user-space-only"));
    LOG.info("path confinement: " + beneath.mode());
    hostKeys = HostKeys.load(configDir, settings.hostKeysOrDefault());
    if (hostKeys.isEmpty()) {
      throw new IOException("no host keys configured: list them in server.hostKeys of " + configDir.resolve(ConfigDirectory.MAIN_FILE));
    }
    for (HostKey k : hostKeys) {
      LOG.info("host key " + k.file() + ": " + k.fingerprintLine());
    }
    registry.replace(dataRoot, loaded.users(), loaded.userErrors());

    sshd = GatewaySshServer.create();
    sshd.setSessionFactory(new GatewaySession.Factory(sshd));
    sshd.setHost(overrides.host() != null ? overrides.host() : settings.listenAddressOrDefault());
    sshd.setPort(overrides.port() != null ? overrides.port() : settings.portOrDefault());
    List<KeyPair> pairs = new ArrayList<>();
    for (HostKey k : hostKeys) {
      if (offered(k, settings.algorithmProfileOrDefault())) {
        pairs.add(k.keyPair());
      } else {
        LOG.info("host key " + k.file() + " (ECDSA, a NIST curve) is not offered by the Modern profile (Compatible offers it)");
      }
    }
    if (pairs.isEmpty()) {
      throw new IOException("no host key the " + settings.algorithmProfileOrDefault() + " profile offers: add an ed25519 or RSA key");
    }
    sshd.setKeyPairProvider(KeyPairProvider.wrap(pairs));
    applyAlgorithms(sshd, settings.algorithmProfileOrDefault());

    defender = new Defender(settings.defenderOrDefault(), Clock.systemUTC());
    passwordChecks = passwordCheckPool();
    GatewayAuthenticator auth = new GatewayAuthenticator(registry, Clock.systemUTC(), defender, settings.maxAuthTriesOrDefault(), passwordChecks);
    // Refusals (banned addresses, too many unauthenticated connections) happen as a session is
    // made, before the server's identification: a session listener that throws makes MINA close
    // the connection. (Not an IoServiceEventListener: MINA 2.20's acceptor does not close the
    // socket when that refuses a connection, so each refusal would leak a descriptor.)
    descriptors = dev.sftp.gateway.fs.Descriptors.forProcess();
    Admission admission = new Admission(settings, defender, descriptors);
    ProxyProtocol proxy = ProxyProtocol.of(settings.proxyProtocolOrDefault(), admission::addressTold);
    if (proxy != null) {
      admission.proxy(proxy);
      sshd.setServerProxyAcceptor(proxy);
      LOG.info("PROXY protocol " + settings.proxyProtocolOrDefault().modeOrDefault() + " from " + settings.proxyProtocolOrDefault().trustedCidrsOrDefault());
    }
    sshd.addSessionListener(admission);
    sshd.setPasswordAuthenticator(auth);
    sshd.setPublickeyAuthenticator(auth);
    sshd.setKeyboardInteractiveAuthenticator(new DefaultKeyboardInteractiveAuthenticator());
    sshd.setGSSAuthenticator(null);
    sshd.setHostBasedAuthenticator(null);
    sshd.setForwardingFilter(RejectAllForwardingFilter.INSTANCE);
    sshd.setAgentFactory(null);
    SftpOnlyCommands refusal = new SftpOnlyCommands();
    sshd.setShellFactory(refusal);
    sshd.setCommandFactory(refusal);
    quotas = new dev.sftp.gateway.fs.Quotas();
    sshd.setFileSystemFactory(new HomeFileSystemFactory(registry, beneath, quotas));

    sftp = new GatewaySftpSubsystem.Factory(settings.maxSftpPacketBytesOrDefault(),
        new dev.sftp.gateway.sftp.PendingRequests(settings.maxPendingRequestBytesOrDefault(), pendingBudget()), metrics,
        new dev.sftp.gateway.sftp.Bandwidth(name -> {
          dev.sftp.gateway.users.GatewayUser u = registry.get(name);
          return u == null ? null : u.limits();
        }));
    ConfinedFileSystemAccessor accessor = new ConfinedFileSystemAccessor(registry, settings.setstatModeOrDefault(), settings.umaskOrDefault(),
        beneath, settings.maxOpenHandlesPerChannelOrDefault(), descriptors, settings.uploadModeOrDefault(), quotas);
    sftp.setFileSystemAccessor(accessor);
    sftp.addSftpEventListener(accessor.uploadEnds());
    LOG.info("upload mode " + settings.uploadModeOrDefault().wireName());
    // A limit's refusal tells the client which limit; everything else keeps MINA's generic text.
    sftp.setErrorStatusDataHandler(new org.apache.sshd.sftp.server.SftpErrorStatusDataHandler() {
      @Override
      public String resolveErrorMessage(org.apache.sshd.sftp.server.SftpSubsystemEnvironment env, int id, Throwable e, int subStatus, int cmd, Object... args) {
        if (e instanceof ConfinedFileSystemAccessor.Refusal r) {
          AuditLog.emit(AuditLog.refusal("request.refused", env instanceof org.apache.sshd.sftp.server.SftpSubsystem s ? s.getServerSession() : null,
              r.limit(), r.getMessage()));
          return e.getMessage();
        }
        return org.apache.sshd.sftp.server.SftpErrorStatusDataHandler.super.resolveErrorMessage(env, id, e, subStatus, cmd, args);
      }
    });
    // A write that fits in the largest accepted message, as OpenSSH's sftp-server (1 KiB below it).
    org.apache.sshd.sftp.SftpModuleProperties.MAX_WRITEDATA_PACKET_LENGTH.set(sshd, settings.maxSftpPacketBytesOrDefault() - 1024);
    sftp.addSftpEventListener(new ExtensionPolicy());
    sftp.addSftpEventListener(new AuditSftpListener(metrics));
    sshd.setSubsystemFactories(List.of(sftp));

    CoreModuleProperties.SERVER_IDENTIFICATION.set(sshd, "SFTPGateway");
    // MINA's SftpFileSystemAccessor.closeFile fsyncs every file written unless this key says
    // false; OpenSSH's sftp-server never does, and clients that want it ask (fsync@openssh.com).
    PropertyResolverUtils.updateProperty(sshd, FSYNC_ON_CLOSE, settings.fsyncOnCloseOrDefault());
    tune(sshd);
    int idle = settings.idleTimeoutSecondsOrDefault();
    CoreModuleProperties.IDLE_TIMEOUT.set(sshd, idle == 0 ? Duration.ZERO : Duration.ofSeconds(idle));
    CoreModuleProperties.AUTH_TIMEOUT.set(sshd, Duration.ofSeconds(settings.loginGraceTimeSecondsOrDefault()));
    // MINA's own count (which every SSH_MSG_SERVICE_REQUEST restarts) must never bind before the
    // authenticator's maxAuthTries: it also counts the "none" request clients open with.
    CoreModuleProperties.MAX_AUTH_REQUESTS.set(sshd, settings.maxAuthTriesOrDefault() + 1);
    // MINA refuses the login past the per-user limit (SSH_MSG_DISCONNECT "Too many concurrent
    // connections (20) - max. allowed: 20", before the success is sent); this audits it.
    CoreModuleProperties.MAX_CONCURRENT_SESSIONS.set(sshd, settings.maxSessionsPerUserOrDefault());
    sshd.setSessionDisconnectHandler(new org.apache.sshd.common.session.SessionDisconnectHandler() {
      @Override
      public boolean handleSessionsCountDisconnectReason(Session session, org.apache.sshd.common.Service service, String username,
          int currentSessionCount, int maxSessionCount) {
        ObjectNode e = AuditLog.refusal("session.refused", session, "maxSessionsPerUser", "too many connections of this user (" + maxSessionCount + ")");
        e.put("user", username);
        AuditLog.emit(e);
        return false; // MINA disconnects
      }
    });
    // One connection's share: channels (each an SFTP subsystem) and the handles each holds open.
    sshd.addChannelListener(new ChannelShare(settings.maxChannelsPerSessionOrDefault()));
    // The accessor refuses past the limit with a clear status; MINA's own check is the backstop.
    org.apache.sshd.sftp.SftpModuleProperties.MAX_OPEN_HANDLES_PER_SESSION.set(sshd, settings.maxOpenHandlesPerChannelOrDefault() + 1);
    if (settings.banner() != null && !settings.banner().isEmpty()) {
      CoreModuleProperties.WELCOME_BANNER.set(sshd, settings.banner().endsWith("\n") ? settings.banner() : settings.banner() + "\n");
    }
    sshd.addSessionListener(new SessionAudit());
    sshd.start();
    LOG.info("SFTP gateway listening on " + sshd.getHost() + ":" + port() + " with " + registry.all().size() + " users");

    reload = new UserReload(configDir, dataRoot, loaded, registry, this::endSessionsOf);
    registerMetrics(admission, dataRoot);
    reload.start(reloadInterval, watchSettings, reportSettings, this::usage);
  }

  /**
   * What SFTP requests received and not yet processed may hold in all, over every connection, and
   * replies not yet taken by their clients likewise ({@link dev.sftp.gateway.sftp.PendingRequests}):
   * 20% of the maximum heap each, or {@code -Dgateway.memory.pending-requests-percent}, or {@code
   * -Dgateway.memory.pending-requests-bytes}.
   */
  static long pendingBudget() {
    Long bytes = Long.getLong("gateway.memory.pending-requests-bytes");
    return bytes != null ? bytes : dev.sftp.gateway.sftp.PendingRequests.heapShare(Integer.getInteger("gateway.memory.pending-requests-percent", 20));
  }

  /** The gauges and counters read when scraped; the audit events counted from now on. */
  private void registerMetrics(Admission admission, Path dataRoot) {
    dev.sftp.gateway.metrics.GatewayMetrics m = metrics;
    AuditLog.observe(m);
    m.gauge("sftp.sessions.active", "Authenticated connections", admission, Admission::authenticated);
    m.gauge("sftp.sessions.unauthenticated", "Connections not authenticated yet", admission, Admission::unauthenticated);
    m.gauge("sftp.users", "Users served", registry, r -> r.all().size());
    m.gauge("sftp.users.rejected", "User entries left out at the last load (see the log for why)", registry, UserRegistry::rejected);
    m.functionCounter("sftp.config.reloads", "Loads of the users that changed them", reload, r -> r.reloads.get(), "result", "ok");
    m.functionCounter("sftp.config.reloads", "Loads of the users refused (the users stayed)", reload, r -> r.refused.get(), "result", "refused");
    m.gauge("sftp.defender.banned", "Source addresses banned now", defender, Defender::bannedCount);
    m.gauge("sftp.pending.request.bytes", "Heap held by SFTP requests not processed yet", sftp.pending(), dev.sftp.gateway.sftp.PendingRequests::total);
    m.gauge("sftp.pending.reply.bytes", "Heap held by replies not taken by their clients yet", sftp.pending(), dev.sftp.gateway.sftp.PendingRequests::replies);
    m.gauge("sftp.password.checks.waiting", "Password checks waiting for the pool", passwordChecks, p -> p.getQueue().size());
    dev.sftp.contract.UserMetricsSettings perUser = settings.userMetricsOrDefault();
    if (m.perUser(perUser.topOrDefault(), perUser.usersOrDefault())) {
      long every = Long.getLong("gateway.user-metrics-seconds", 30);
      userMetricsTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "user-metrics");
        t.setDaemon(true);
        return t;
      });
      userMetricsTimer.scheduleWithFixedDelay(m::selectUsers, every, every, java.util.concurrent.TimeUnit.SECONDS);
      LOG.info("per-user metrics for the top " + perUser.topOrDefault() + " users by bytes and " + perUser.usersOrDefault().size() + " named users");
    }
    for (HostKey k : hostKeys) {
      m.info("sftp.host.key.info", "Host keys served (1 each)", "type", org.apache.sshd.common.config.keys.KeyUtils.getKeyType(k.publicKey()),
          "fingerprint", org.apache.sshd.common.config.keys.KeyUtils.getFingerPrint(k.publicKey()));
    }
  }

  /** Re-reads the users if any file changed; ends the sessions of removed or changed users. */
  public boolean reload() throws ContractException {
    return reload.reload();
  }

  private void endSessionsOf(Set<String> users) {
    for (AbstractSession s : sshd.getActiveSessions()) {
      String u = s.getUsername();
      if (u != null && s.isAuthenticated() && users.contains(u)) {
        AuditLog.emit(AuditLog.refusal("session.terminated", s, "userChanged", registry.get(u) == null ? "user removed or invalid" : "user changed"));
        s.close(true);
      }
    }
  }

  /** The SFTP requests received and not yet processed, over all connections. */
  public dev.sftp.gateway.sftp.PendingRequests pendingRequests() {
    return sftp.pending();
  }

  /** The usage of the homes of users with a quota that were counted, by user name. */
  java.util.Map<String, dev.sftp.contract.ServingReport.HomeUsage> usage() {
    java.util.Map<String, dev.sftp.contract.ServingReport.HomeUsage> out = new java.util.HashMap<>();
    for (dev.sftp.gateway.users.GatewayUser u : registry.all().values()) {
      if (u.limits().hasQuota()) {
        dev.sftp.gateway.fs.Quotas.Usage k = quotas.known(u.home());
        if (k != null) {
          out.put(u.name(), new dev.sftp.contract.ServingReport.HomeUsage(k.bytes(), k.files()));
        }
      }
    }
    return out;
  }

  /** The homes' usage for users with a quota. */
  public dev.sftp.gateway.fs.Quotas quotas() {
    return quotas;
  }

  /** The SFTP subsystem factory (tests add listeners to it). */
  public SftpSubsystemFactory sftpFactory() {
    return sftp;
  }

  public int port() {
    return sshd.getPort();
  }

  /** Whether the server is listening (or draining: still serving the connections it has). */
  public boolean isOpen() {
    return sshd != null && sshd.isStarted() && sshd.isOpen();
  }

  private volatile boolean draining;

  /** How long a draining server keeps accepting after it reported not ready (at most half the grace). */
  static final Duration ENDPOINTS_DELAY = Duration.ofMillis(Long.getLong("gateway.drain.endpoints-delay-millis", 5_000));

  /** How long {@link #drain} lets transfers go on ({@code shutdownGraceSeconds}). */
  public Duration shutdownGrace() {
    return Duration.ofSeconds(settings == null ? 0 : settings.shutdownGraceSecondsOrDefault());
  }

  /** Whether {@link #drain} has begun: the server accepts no connection any more. */
  public boolean isDraining() {
    return draining;
  }

  /**
   * The first half of a graceful stop (SIGTERM): stops accepting connections, closes every
   * connection that is not moving a file, and lets transfers under way finish, closing each
   * connection as soon as it has none, until none are left or {@code grace} has passed. Then
   * {@link #close} ends what remains. Each connection it ends is audited ({@code
   * session.terminated}, limit {@code shutdown}).
   */
  public void drain(Duration grace) {
    boolean first;
    synchronized (this) {
      if (sshd == null) {
        return;
      }
      first = !draining;
      draining = true;
    }
    if (!first) {
      // Another thread drains (the shutdown hook and the main thread both come here): wait for it.
      try {
        drained.await();
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
      }
      return;
    }
    try {
      drainNow(grace);
    } finally {
      drained.countDown();
    }
  }

  private final java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);

  private void drainNow(Duration grace) {
    long t0 = System.nanoTime();
    // Readiness is down from now on; Services take some seconds to stop sending new connections
    // here. Until then the listener stays open and nothing is closed, so that a login that
    // arrives meanwhile still works.
    Duration listen = Duration.ofMillis(Math.min(ENDPOINTS_DELAY.toMillis(), grace.toMillis() / 2));
    LOG.info("draining: not ready; still accepting for " + listen.toMillis() + " ms while Services update");
    try {
      Thread.sleep(listen.toMillis());
    } catch (InterruptedException ex) {
      Thread.currentThread().interrupt();
    }
    ((GatewaySshServer) sshd).stopAccepting();
    int busyAtStart = (int) sshd.getActiveSessions().stream().filter(GatewaySftpSubsystem::transferring).count();
    LOG.info("draining: no new connections; " + sshd.getActiveSessions().size() + " open, " + busyAtStart
        + " moving files, which get up to " + grace.toSeconds() + " s");
    long deadline = t0 + grace.toNanos();
    while (true) {
      List<AbstractSession> open = sshd.getActiveSessions();
      if (open.isEmpty()) {
        break;
      }
      boolean late = System.nanoTime() - deadline >= 0;
      for (AbstractSession s : open) {
        if (s.isOpen() && !s.isClosing() && (late || !GatewaySftpSubsystem.transferring(s))) {
          LOG.info("draining: closing " + (late ? "busy" : "idle") + " connection " + s);
          AuditLog.emit(AuditLog.refusal("session.terminated", s, "shutdown",
              late ? "the gateway is stopping: transfer cut after the shutdown grace time (" + grace.toSeconds() + " s)" : "the gateway is stopping"));
          s.close(false);
        }
      }
      if (late) {
        break;
      }
      try {
        Thread.sleep(100);
      } catch (InterruptedException ex) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    LOG.info("drained in " + (System.nanoTime() - t0) / 1_000_000 + " ms");
  }

  public List<HostKey> hostKeys() {
    return hostKeys;
  }

  /** The host keys clients are offered (the profile leaves some out: see {@link #offered}). */
  public List<HostKey> offeredHostKeys() {
    return hostKeys.stream().filter(k -> offered(k, settings.algorithmProfileOrDefault())).toList();
  }

  /** Whether MINA fsyncs files written when they are closed, as its SFTP subsystem reads it. */
  public boolean fsyncOnClose() {
    return PropertyResolverUtils.getBooleanProperty(sshd, FSYNC_ON_CLOSE, true);
  }

  public UserRegistry registry() {
    return registry;
  }

  @Override
  public synchronized void close() throws IOException {
    AuditLog.unobserve(metrics);
    if (userMetricsTimer != null) {
      userMetricsTimer.shutdownNow();
    }
    if (quotas != null) {
      quotas.close();
    }
    if (passwordChecks != null) {
      passwordChecks.shutdownNow();
    }
    if (reload != null) {
      reload.close();
      reload = null;
    }
    if (sshd != null) {
      sshd.stop(true);
    }
    if (sftp != null) {
      sftp.shutdown();
    }
    if (descriptors != null) {
      descriptors.close();
    }
  }

  /**
   * Transport settings measured in bench/ (docs/benchmarks.md), each overridable with the system
   * property named beside it: reads of up to 255 KiB as OpenSSH's server allows (MINA's default
   * of 63 KiB makes clients that honour limits@openssh.com send four times more read requests);
   * TCP_NODELAY, as OpenSSH sets it, so that small replies (one per file of a many-file upload)
   * do not wait on Nagle's algorithm. MINA's 2 MiB channel window stays: 16 MiB made single
   * uploads slower here (AES-GCM 255 -> 120 MiB/s, chacha20 177 -> 70 MiB/s, 3 rounds each), and
   * 128 KiB SSH packets changed nothing measurable, so MAX_PACKET_SIZE stays too.
   */
  static void tune(SshServer sshd) {
    org.apache.sshd.sftp.SftpModuleProperties.MAX_READDATA_PACKET_LENGTH.set(sshd, Integer.getInteger("gateway.sftp.max-read", 255 * 1024));
    CoreModuleProperties.TCP_NODELAY.set(sshd, Boolean.parseBoolean(System.getProperty("gateway.ssh.tcp-nodelay", "true")));
    Long window = Long.getLong("gateway.ssh.window-size");
    if (window != null) {
      CoreModuleProperties.WINDOW_SIZE.set(sshd, window);
    }
    Long packet = Long.getLong("gateway.ssh.max-packet");
    if (packet != null) {
      CoreModuleProperties.MAX_PACKET_SIZE.set(sshd, packet);
    }
  }

  private static final Set<BuiltinCiphers> CTR = EnumSet.of(BuiltinCiphers.aes128ctr, BuiltinCiphers.aes192ctr, BuiltinCiphers.aes256ctr);
  /** AES-CTR packets transformed out of place (crypto.OutOfPlaceCipher); false: MINA's. */
  private static final boolean OUT_OF_PLACE_CTR = Boolean.parseBoolean(System.getProperty("gateway.crypto.ctr-out-of-place", "true"));

  /** Whether the profile offers this host key: Modern offers no NIST-curve (ECDSA) host key. */
  static boolean offered(HostKey k, AlgorithmProfile profile) {
    return profile == AlgorithmProfile.COMPATIBLE || !k.keyPair().getPublic().getAlgorithm().startsWith("EC");
  }

  /**
   * The algorithms of a profile. Modern: no [fail] line from ssh-audit (CryptoProfileIT):
   * post-quantum hybrid key exchange first, then curve25519 and SHA-2 Diffie-Hellman groups (no
   * NIST curves); AES-GCM, chacha20-poly1305, AES-CTR; EtM MACs first, then hmac-sha2-256/512,
   * which paramiko 2.12 and libssh2 1.10 (curl) of Debian 12 need with AES-CTR (they have no GCM,
   * no chacha20 and no EtM); ed25519 and RSA (SHA-2) host keys. Compatible adds the NIST-curve
   * key exchanges and ECDSA host keys, hmac-sha1 and diffie-hellman-group14-sha1. Compression is
   * only ever after authentication (zlib@openssh.com), never zlib before it.
   */
  static void applyAlgorithms(SshServer sshd, AlgorithmProfile profile) {
    List<BuiltinCiphers> ciphers = new ArrayList<>(List.of(
        BuiltinCiphers.aes128gcm, BuiltinCiphers.aes256gcm, BuiltinCiphers.cc20p1305_openssh,
        BuiltinCiphers.aes128ctr, BuiltinCiphers.aes192ctr, BuiltinCiphers.aes256ctr));
    List<BuiltinMacs> macs = new ArrayList<>(List.of(
        BuiltinMacs.hmacsha256etm, BuiltinMacs.hmacsha512etm, BuiltinMacs.hmacsha256, BuiltinMacs.hmacsha512));
    List<BuiltinDHFactories> kex = new ArrayList<>(List.of(
        BuiltinDHFactories.mlkem768x25519, BuiltinDHFactories.sntrup761x25519_openssh, BuiltinDHFactories.sntrup761x25519,
        BuiltinDHFactories.curve25519, BuiltinDHFactories.curve25519_libssh,
        BuiltinDHFactories.dhg16_512, BuiltinDHFactories.dhg18_512, BuiltinDHFactories.dhg14_256, BuiltinDHFactories.dhgex256));
    sshd.setCompressionFactories(List.of(org.apache.sshd.common.compression.BuiltinCompressions.none,
        org.apache.sshd.common.compression.BuiltinCompressions.delayedZlib));
    if (profile == AlgorithmProfile.COMPATIBLE) {
      kex.addAll(List.of(BuiltinDHFactories.ecdhp256, BuiltinDHFactories.ecdhp384, BuiltinDHFactories.ecdhp521));
      macs.add(BuiltinMacs.hmacsha1etm);
      macs.add(BuiltinMacs.hmacsha1);
      kex.add(BuiltinDHFactories.dhg14);
    }
    // Never SHA-1 "ssh-rsa" or DSA signatures, neither for host keys nor for user keys.
    List<BuiltinSignatures> sigs = List.of(
        BuiltinSignatures.ed25519, BuiltinSignatures.ed25519_cert,
        BuiltinSignatures.nistp256, BuiltinSignatures.nistp384, BuiltinSignatures.nistp521,
        BuiltinSignatures.nistp256_cert, BuiltinSignatures.nistp384_cert, BuiltinSignatures.nistp521_cert,
        BuiltinSignatures.sk_ssh_ed25519, BuiltinSignatures.sk_ecdsa_sha2_nistp256,
        BuiltinSignatures.rsaSHA512, BuiltinSignatures.rsaSHA256,
        BuiltinSignatures.rsaSHA512_cert, BuiltinSignatures.rsaSHA256_cert);

    List<NamedFactory<Cipher>> c = new ArrayList<>();
    // chacha20-poly1305 (what stock OpenSSH clients pick first) on the JDK's intrinsic ChaCha20;
    // -Dgateway.crypto.mina-chacha20=true keeps MINA's pure-Java engine (for comparisons).
    boolean minaChaCha = Boolean.getBoolean("gateway.crypto.mina-chacha20");
    ciphers.stream().filter(BuiltinCiphers::isSupported)
        .forEach(b -> c.add(b == BuiltinCiphers.cc20p1305_openssh && !minaChaCha ? dev.sftp.gateway.crypto.JdkChaCha20Poly1305.FACTORY
            : CTR.contains(b) && OUT_OF_PLACE_CTR ? dev.sftp.gateway.crypto.OutOfPlaceCipher.factory(b) : b));
    sshd.setCipherFactories(c);
    if (!minaChaCha) {
      LOG.fine("chacha20-poly1305: " + dev.sftp.gateway.crypto.JdkChaCha20Poly1305.poly1305Engine());
    }
    List<NamedFactory<Mac>> m = new ArrayList<>();
    macs.stream().filter(BuiltinMacs::isSupported).forEach(m::add);
    sshd.setMacFactories(m);
    List<DHFactory> d = new ArrayList<>();
    kex.stream().filter(BuiltinDHFactories::isSupported).forEach(d::add);
    sshd.setKeyExchangeFactories(NamedFactory.setUpTransformedFactories(false, d, ServerBuilder.DH2KEX));
    List<NamedFactory<Signature>> s = new ArrayList<>();
    sigs.stream().filter(BuiltinSignatures::isSupported).forEach(s::add);
    sshd.setSignatureFactories(s);
  }

  /**
   * At most {@code max} channels per connection: when a connection holds that many, further
   * channel opens are answered with SSH_MSG_CHANNEL_OPEN_FAILURE ("additional sessions
   * disabled"), and allowed again when one closes. (MINA's own MAX_CONCURRENT_CHANNELS ends the
   * whole connection, every channel of it, instead.)
   */
  private static final class ChannelShare implements org.apache.sshd.common.channel.ChannelListener {
    private final int max;

    ChannelShare(int max) {
      this.max = max;
    }

    private void recount(org.apache.sshd.common.channel.Channel channel, boolean closing) {
      org.apache.sshd.common.session.ConnectionService cs = channel.getSession().getService(org.apache.sshd.common.session.ConnectionService.class);
      if (cs instanceof org.apache.sshd.common.session.helpers.AbstractConnectionService acs) {
        synchronized (acs) {
          int open = acs.getChannels().size() - (closing && acs.getChannels().contains(channel) ? 1 : 0);
          acs.setAllowMoreSessions(open < max);
        }
      }
    }

    @Override
    public void channelInitialized(org.apache.sshd.common.channel.Channel channel) {
      recount(channel, false);
    }

    @Override
    public void channelOpenSuccess(org.apache.sshd.common.channel.Channel channel) {
      recount(channel, false);
    }

    @Override
    public void channelClosed(org.apache.sshd.common.channel.Channel channel, Throwable reason) {
      recount(channel, true);
    }
  }

  private static final org.apache.sshd.common.AttributeRepository.AttributeKey<Boolean> LOGGED_OUT = new org.apache.sshd.common.AttributeRepository.AttributeKey<>();

  /** Audits logins and logouts (the limits are {@link Admission}'s). */
  private final class SessionAudit implements SessionListener {
    @Override
    public void sessionEvent(Session session, Event event) {
      if (event == Event.Authenticated) {
        ObjectNode e = AuditLog.event("login.success", session);
        String method = session.getAttribute(GatewayAuthenticator.METHOD);
        e.put("method", method == null ? "keyboard-interactive" : method);
        AuditLog.emit(e);
      }
    }

    @Override
    public void sessionClosed(Session session) {
      // Once: MINA signals a gracefully closed session's end twice.
      if (session.getUsername() != null && ((AbstractSession) session).isAuthenticated() && session.setAttribute(LOGGED_OUT, Boolean.TRUE) == null) {
        AuditLog.emit(AuditLog.event("logout", session));
      }
    }
  }
}
