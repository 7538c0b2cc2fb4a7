package dev.sftp.gateway.server;

import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Liveness;
import org.eclipse.microprofile.health.Readiness;

/**
 * {@code /q/health/ready} is up once the SSH server listens, down again once it drains; {@code
 * /q/health/live} while the process can answer and, once started, the server still serves.
 */
public class GatewayHealth {
  private static volatile GatewayServer server;
  private static volatile boolean started;

  static void serving(GatewayServer s) {
    server = s;
    started = true;
  }

  static boolean listening() {
    GatewayServer s = server;
    return s != null && s.isOpen();
  }

  /** Ready: listening and not draining (a draining pod takes no new connections). */
  static boolean ready() {
    GatewayServer s = server;
    return s != null && s.isOpen() && !s.isDraining();
  }

  @ApplicationScoped
  @Readiness
  public static class Ready implements HealthCheck {
    @Override
    public HealthCheckResponse call() {
      return HealthCheckResponse.named("sftp").status(ready()).build();
    }
  }

  @ApplicationScoped
  @Liveness
  public static class Live implements HealthCheck {
    @Override
    public HealthCheckResponse call() {
      return HealthCheckResponse.named("sftp").status(!started || listening()).build();
    }
  }
}
