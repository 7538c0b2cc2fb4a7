package dev.sftp.gateway.server;

import dev.sftp.contract.ContractException;
import dev.sftp.gateway.logging.CachedLoggers;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Entry point. {@code java -jar quarkus-run.jar} serves the config directory ({@code
 * gateway.config-dir}); {@code java -jar quarkus-run.jar local [DIR] [--port N]} first prepares a
 * local folder with a demo user and host keys, then serves it on 127.0.0.1.
 */
@QuarkusMain
public class GatewayMain implements QuarkusApplication {
  /** Quarkus's entry point runs this first, before its own start-up asks SLF4J for a logger. */
  public static void main(String... args) {
    CachedLoggers.install();
    Quarkus.run(GatewayMain.class, args);
  }

  @ConfigProperty(name = "gateway.config-dir")
  String configDir;

  @ConfigProperty(name = "gateway.reload-interval")
  Duration reloadInterval;

  @ConfigProperty(name = "gateway.port")
  Optional<Integer> port;

  @ConfigProperty(name = "gateway.host")
  Optional<String> host;

  @ConfigProperty(name = "gateway.data-root")
  Optional<String> dataRoot;

  /** The gateway's namespace, to follow its user Secrets through the Kubernetes API. */
  @ConfigProperty(name = "gateway.kubernetes.namespace")
  Optional<String> kubeNamespace;

  /** The Secrets (names) that hold the user lists; with the namespace, enables following them. */
  @ConfigProperty(name = "gateway.kubernetes.user-secrets")
  Optional<java.util.List<String>> userSecrets;

  /** This pod's name (downward API), the key it reports what it serves under. */
  @ConfigProperty(name = "gateway.kubernetes.pod-name")
  Optional<String> podName;

  /** The ConfigMap the pod reports the user lists it serves into; with the pod name, enables it. */
  @ConfigProperty(name = "gateway.kubernetes.serving-config-map")
  Optional<String> servingConfigMap;

  /** Quarkus's registry, served as Prometheus text at /q/metrics on the management port. */
  @jakarta.inject.Inject
  io.micrometer.core.instrument.MeterRegistry meterRegistry;

  private io.fabric8.kubernetes.client.KubernetesClient kube;
  private volatile GatewayServer running;

  /**
   * On SIGTERM the JVM exits once Quarkus's shutdown hook returns, without waiting for {@link
   * #run} to leave {@code waitForExit}: stop the server here, inside the hook, so that the pod's
   * serving report is taken away before the process ends.
   */
  void onStop(@jakarta.enterprise.event.Observes io.quarkus.runtime.ShutdownEvent e) {
    GatewayServer s = running;
    if (s != null) {
      try {
        s.drain(s.shutdownGrace());
        s.close();
      } catch (java.io.IOException ex) {
        java.util.logging.Logger.getLogger(GatewayMain.class.getName()).warning("stopping the server: " + ex);
      }
    }
  }

  @Override
  public int run(String... args) throws Exception {
    Path dir = Path.of(configDir);
    GatewayServer.Overrides overrides = new GatewayServer.Overrides(host.orElse(null), port.orElse(null), dataRoot.map(Path::of).orElse(null));
    LocalMode.Prepared local = null;
    if (args.length > 0 && args[0].equals("local")) {
      LocalMode.Options opts = LocalMode.Options.parse(args);
      local = LocalMode.prepare(opts);
      dir = local.configDir();
      overrides = new GatewayServer.Overrides("127.0.0.1", opts.port());
    } else if (args.length > 0) {
      System.err.println("usage: gateway [local [DIR] [--port N]]");
      return 2;
    }
    if (!CachedLoggers.active()) {
      java.util.logging.Logger.getLogger(GatewayMain.class.getName()).warning(
          "SLF4J does not use the gateway's logger cache (slf4j.provider=" + System.getProperty("slf4j.provider")
              + "): every MINA future makes a logger of its own, which costs CPU on every packet");
    }
    try (GatewayServer server = new GatewayServer(dir, overrides, reloadInterval).metrics(new dev.sftp.gateway.metrics.GatewayMetrics(meterRegistry))) {
      boolean follow = local == null && kubeNamespace.isPresent() && userSecrets.isPresent() && !userSecrets.get().isEmpty();
      boolean report = local == null && kubeNamespace.isPresent() && podName.isPresent() && servingConfigMap.isPresent();
      // One client (one connection pool, one set of threads) for watching and reporting.
      kube = follow || report ? new io.fabric8.kubernetes.client.KubernetesClientBuilder().build() : null;
      if (follow) {
        server.followSecrets(new dev.sftp.gateway.users.SecretWatch.Settings(kube, kubeNamespace.get(), userSecrets.get()));
      }
      if (report) {
        server.reportServing(new dev.sftp.gateway.users.ServingReporter.Settings(kube, kubeNamespace.get(), servingConfigMap.get(), podName.get()));
      }
      running = server;
      try {
        server.start();
      } catch (ContractException e) {
        System.err.println("ERROR: " + e.getMessage());
        return 1;
      }
      GatewayHealth.serving(server);
      if (local != null) {
        System.out.println(local.instructions(server));
      }
      Quarkus.waitForExit();
      // SIGTERM: the shutdown hook drains (onStop); this thread must not close the server under it.
      server.drain(server.shutdownGrace());
    } finally {
      if (kube != null) {
        kube.close();
      }
    }
    return 0;
  }
}
