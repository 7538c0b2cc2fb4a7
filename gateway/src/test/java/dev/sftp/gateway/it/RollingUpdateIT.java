package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.gateway.support.Proc;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A rolling update of a gateway with two replicas on one shared volume, as a cluster does it, with
 * the real jar: two gateway processes serve the same config and data; a Service stands in front
 * (a TCP proxy here that sends each new connection to a backend whose readiness endpoint answers
 * 200, looked at every 250 ms as endpoints are updated). While logins run in a loop through it,
 * the old replica gets SIGTERM: its readiness goes down at once, it keeps accepting for 5 s while
 * the endpoints update, then drains and exits. No login may fail.
 */
class RollingUpdateIT {
  @TempDir Path cwd;

  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  record Backend(int port, int management, Process process, Path log) {}

  Backend start(List<String> args, int port, int management) throws Exception {
    Path log = cwd.resolve("gateway-" + port + ".log");
    List<String> cmd = new ArrayList<>(List.of("java", "--add-opens", "java.base/sun.nio.fs=ALL-UNNAMED", "-Dquarkus.management.port=" + management));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    await().atMost(Duration.ofSeconds(90)).until(() -> !p.isAlive() || ready(management));
    assertThat(p.isAlive()).as(() -> LocalModeIT.readQuietly(log)).isTrue();
    return new Backend(port, management, p, log);
  }

  static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

  static boolean ready(int management) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + management + "/q/health/ready")).timeout(Duration.ofSeconds(1)).build(),
          HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** What a Service does for new connections: round robin over the backends whose readiness is up. */
  static final class Service implements AutoCloseable {
    final ServerSocket listener = new ServerSocket(0, 200, java.net.InetAddress.getLoopbackAddress());
    final List<Backend> backends = new CopyOnWriteArrayList<>();
    final List<Backend> endpoints = new CopyOnWriteArrayList<>();
    final AtomicBoolean open = new AtomicBoolean(true);
    final AtomicInteger next = new AtomicInteger();

    Service() throws IOException {
      Thread poll = new Thread(() -> {
        while (open.get()) {
          List<Backend> up = new ArrayList<>();
          for (Backend b : backends) {
            if (b.process().isAlive() && ready(b.management())) {
              up.add(b);
            }
          }
          endpoints.retainAll(up);
          for (Backend b : up) {
            if (!endpoints.contains(b)) {
              endpoints.add(b);
            }
          }
          sleep(250);
        }
      }, "endpoints");
      poll.setDaemon(true);
      poll.start();
      Thread accept = new Thread(() -> {
        while (open.get()) {
          Socket client;
          try {
            client = listener.accept();
          } catch (IOException e) {
            continue; // closed
          }
          try {
            List<Backend> now = List.copyOf(endpoints);
            if (now.isEmpty()) {
              throw new IOException("no endpoints");
            }
            Backend b = now.get(Math.floorMod(next.getAndIncrement(), now.size()));
            Socket server = new Socket();
            server.connect(new InetSocketAddress("127.0.0.1", b.port()), 2000);
            pipe(client, server);
            pipe(server, client);
          } catch (IOException e) {
            // refused by the backend, or none ready: the client's connection is closed
            try {
              client.close();
            } catch (IOException ignored) {
              // closed
            }
          }
        }
      }, "service");
      accept.setDaemon(true);
      accept.start();
    }

    static void pipe(Socket from, Socket to) {
      Thread t = new Thread(() -> {
        try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
          in.transferTo(out);
        } catch (IOException e) {
          // closed
        } finally {
          try {
            to.shutdownOutput();
          } catch (IOException e) {
            // closed
          }
        }
      });
      t.setDaemon(true);
      t.start();
    }

    static void sleep(long ms) {
      try {
        Thread.sleep(ms);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    int port() {
      return listener.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      open.set(false);
      listener.close();
    }
  }

  @Test
  void noLoginFailsWhileAReplicaIsReplaced() throws Exception {
    // The old replica: local mode prepares a config (host keys, the demo user) and the volume.
    int portA = freePort();
    Backend a = start(List.of("-jar", LocalModeIT.JAR.toString(), "local", "--port", String.valueOf(portA)), portA, freePort());
    String printed = Files.readString(a.log());
    Path config = cwd.resolve("local/config");
    List<String> loginLine = LocalModeIT.withBatch(LocalModeIT.printedSftpLines(printed).get(1), "-o", "IdentityAgent=none");
    // The new replica: the same config and volume, as a second pod of the Deployment mounts them.
    int portB = freePort();
    Backend b = null;
    try (Service service = new Service()) {
      b = start(List.of("-Dgateway.config-dir=" + config, "-Dgateway.port=" + portB, "-jar", LocalModeIT.JAR.toString()), portB, freePort());
      service.backends.add(a);
      service.backends.add(b);
      await().atMost(Duration.ofSeconds(10)).until(() -> service.endpoints.size() == 2);
      // The printed line names A's port: point it at the Service.
      List<String> viaService = new ArrayList<>(loginLine);
      viaService.set(viaService.indexOf("-P") + 1, String.valueOf(service.port()));
      // Both replicas have the same host keys; known_hosts names them by A's port.
      viaService.addAll(1, List.of("-o", "HostKeyAlias=[127.0.0.1]:" + portA));

      AtomicBoolean running = new AtomicBoolean(true);
      List<String> failures = new CopyOnWriteArrayList<>();
      AtomicInteger logins = new AtomicInteger();
      Thread loop = new Thread(() -> {
        while (running.get()) {
          try {
            Proc.Result r = Proc.run(viaService, Map.of(), "ls\n", Duration.ofSeconds(30), cwd);
            if (r.exit() != 0) {
              failures.add(r.toString());
            }
          } catch (AssertionError timedOut) {
            failures.add(timedOut.getMessage());
          }
          logins.incrementAndGet();
        }
      });
      loop.start();
      await().atMost(Duration.ofSeconds(60)).until(() -> logins.get() >= 5);
      long t0 = System.nanoTime();
      a.process().destroy(); // SIGTERM: the rolling update takes the old pod away
      assertThat(a.process().waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).as("the old replica exits").isTrue();
      long exitedMs = (System.nanoTime() - t0) / 1_000_000;
      int before = logins.get();
      // Logins go on against the new replica alone.
      await().atMost(Duration.ofSeconds(60)).until(() -> logins.get() >= before + 5);
      running.set(false);
      loop.join(60_000);
      System.out.println("RollingUpdateIT: " + logins.get() + " logins through the Service, old replica exited " + exitedMs
          + " ms after SIGTERM, failures: " + failures.size());
      assertThat(failures).as(() -> "gateway A log:\n" + LocalModeIT.readQuietly(a.log())).isEmpty();
      assertThat(LocalModeIT.readQuietly(a.log())).contains("draining: no new connections");
    } finally {
      LocalModeIT.stop(a.process());
      if (b != null) {
        LocalModeIT.stop(b.process());
      }
    }
  }
}
