package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.gateway.support.Proc;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged gateway in local mode, as the README runs it: a newcomer copies the printed
 * command lines and logs in; host keys survive a restart.
 */
class LocalModeIT {
  static final Path JAR = Path.of("target/quarkus-app/quarkus-run.jar").toAbsolutePath();
  @TempDir Path cwd;

  record Started(Process process, String output, Path log) {}

  Started startLocal(int port) throws Exception {
    return startLocal(port, 0);
  }

  Started startLocal(int port, int managementPort) throws Exception {
    Path log = cwd.resolve("gateway-" + System.nanoTime() + ".log");
    ProcessBuilder pb = new ProcessBuilder("java", "-Dquarkus.management.port=" + managementPort, "-jar", JAR.toString(), "local", "--port", String.valueOf(port));
    pb.directory(cwd.toFile());
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    await().atMost(Duration.ofSeconds(90)).until(() -> !p.isAlive() || Files.readString(log).contains("Stop with Ctrl+C"));
    String out = Files.readString(log);
    assertThat(p.isAlive()).as(out).isTrue();
    // main() chose the gateway's SLF4J provider before Quarkus started (GatewayMain warns if not).
    assertThat(out).doesNotContain("logger cache").doesNotContain("SLF4J(");
    return new Started(p, out, log);
  }

  static void stop(Process p) throws InterruptedException {
    p.destroy(); // SIGTERM: Quarkus shuts down and stops the server
    if (!p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
      p.destroyForcibly().waitFor();
    }
  }

  static List<String> printedSftpLines(String out) {
    List<String> lines = new ArrayList<>();
    for (String l : out.split("\n")) {
      if (l.trim().startsWith("sftp ")) {
        lines.add(l.trim());
      }
    }
    return lines;
  }

  static List<String> withBatch(String line, String... front) {
    List<String> words = new ArrayList<>(Arrays.asList(line.split(" ")));
    words.addAll(1, List.of(front));
    words.addAll(words.size() - 1, List.of("-o", "StrictHostKeyChecking=yes", "-b", "-"));
    return words;
  }

  @Test
  void newcomerLogsInWithThePrintedLinesAndHostKeysSurviveARestart() throws Exception {
    int port;
    int management;
    try (ServerSocket s = new ServerSocket(0); ServerSocket m = new ServerSocket(0)) {
      port = s.getLocalPort();
      management = m.getLocalPort();
    }
    Started first = startLocal(port, management);
    String firstKeys;
    try {
      List<String> lines = printedSftpLines(first.output());
      assertThat(lines).hasSize(2);
      Matcher pw = Pattern.compile("Connect with the password '([^']+)'").matcher(first.output());
      assertThat(pw.find()).isTrue();
      Path askpass = cwd.resolve("askpass.sh");
      Files.writeString(askpass, "#!/bin/sh\necho '" + pw.group(1) + "'\n");
      askpass.toFile().setExecutable(true);

      Files.writeString(cwd.resolve("hello.txt"), "hello gateway\n");
      Proc.Result withPassword = Proc.run(withBatch(lines.get(0), "-o", "BatchMode=no", "-o", "PubkeyAuthentication=no"),
          Map.of("SSH_ASKPASS", askpass.toString(), "SSH_ASKPASS_REQUIRE", "force", "DISPLAY", ":0"),
          "put hello.txt\nls\n", Duration.ofSeconds(60), cwd);
      assertThat(withPassword.exit()).as(withPassword.toString()).isZero();
      assertThat(withPassword.out()).contains("hello.txt").contains("welcome.txt");

      Proc.Result withKey = Proc.run(withBatch(lines.get(1), "-o", "IdentityAgent=none"), Map.of(), "get welcome.txt\n", Duration.ofSeconds(60), cwd);
      assertThat(withKey.exit()).as(withKey.toString()).isZero();
      assertThat(cwd.resolve("welcome.txt")).content().contains("Hello from the SFTP gateway");
      assertThat(cwd.resolve("local/data/demo/hello.txt")).hasContent("hello gateway");
      // The metrics of what just happened, as Prometheus scrapes them from the management port.
      String metrics = java.net.http.HttpClient.newHttpClient().send(
          java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + management + "/q/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString()).body();
      assertThat(metrics).contains("sftp_logins_total{method=\"password\",result=\"success\"} 1.0")
          .contains("sftp_logins_total{method=\"publickey\",result=\"success\"} 1.0")
          .contains("sftp_bytes_total{direction=\"written\"} 14.0")
          .contains("sftp_transfers_total{direction=\"write\",result=\"ok\"} 1.0")
          .contains("sftp_users 1.0")
          .containsPattern("sftp_host_key_info\\{fingerprint=\"SHA256:[^\"]+\",type=\"ssh-ed25519\"} 1.0")
          .contains("jvm_memory_used_bytes");
      firstKeys = hostKeyLines(first.output());
      assertThat(firstKeys).contains("(ED25519)").contains("(ECDSA)").contains("(RSA)");
    } finally {
      stop(first.process());
    }

    Started second = startLocal(port);
    try {
      assertThat(hostKeyLines(second.output())).isEqualTo(firstKeys);
      Proc.Result again = Proc.run(withBatch(printedSftpLines(second.output()).get(1), "-o", "IdentityAgent=none"), Map.of(), "ls\n", Duration.ofSeconds(60), cwd);
      assertThat(again.exit()).as(again.toString()).isZero();
      assertThat(again.out()).contains("hello.txt");
    } finally {
      stop(second.process());
    }
  }

  /**
   * SIGTERM while a 256 MiB upload is under way (OpenSSH sftp, limited to ~25 MB/s so that it is):
   * the upload completes intact, an idle connection is closed at once, no new connection is
   * accepted, and the process exits once the upload is done.
   */
  @Test
  void sigtermLetsTheRunningUploadFinish() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path src = cwd.resolve("big.bin");
    byte[] chunk = new byte[1 << 20];
    java.util.Random random = new java.util.Random(5);
    try (var out = Files.newOutputStream(src)) {
      for (int i = 0; i < 256; i++) {
        random.nextBytes(chunk);
        out.write(chunk);
      }
    }
    Started gw = startLocal(port);
    try {
      List<String> key = withBatch(printedSftpLines(gw.output()).get(1), "-o", "IdentityAgent=none", "-l", "200000");
      // An idle connection: sftp waiting on its stdin.
      ProcessBuilder idleCmd = new ProcessBuilder(withBatch(printedSftpLines(gw.output()).get(1), "-o", "IdentityAgent=none"));
      idleCmd.directory(cwd.toFile());
      idleCmd.redirectErrorStream(true);
      Process idle = idleCmd.start();
      java.util.concurrent.CompletableFuture<Proc.Result> upload = java.util.concurrent.CompletableFuture.supplyAsync(
          () -> Proc.run(key, Map.of(), "put big.bin\n", Duration.ofSeconds(120), cwd));
      Path landed = cwd.resolve("local/data/demo/big.bin");
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(landed) && Files.size(landed) > (8 << 20));
      long t0 = System.nanoTime();
      gw.process().destroy(); // SIGTERM
      // The idle one is closed once the listener closes (5 s after SIGTERM), the upload goes on.
      await().atMost(Duration.ofSeconds(20)).until(() -> readQuietly(gw.log()).contains("\"reason\":\"the gateway is stopping\""));
      assertThat(Files.size(landed)).as("still uploading when the idle one was closed").isLessThan(256L << 20);
      // sftp notices when it next talks to the server.
      idle.getOutputStream().write("ls\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      idle.getOutputStream().close();
      boolean idleEnded = idle.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(idleEnded).as(() -> "the idle sftp ends; gateway log:\n" + readQuietly(gw.log())).isTrue();
      assertThat(idle.exitValue()).as("its connection was closed").isNotZero();
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
          assertThat(connects(port)).as("no new connections while draining").isFalse());
      Proc.Result r = upload.get(120, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(r.exit()).as(() -> r + "\ngateway log:\n" + readQuietly(gw.log())).isZero();
      assertThat(gw.process().waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as("the process exits once drained").isTrue();
      System.out.println("LocalModeIT: SIGTERM to exit " + (System.nanoTime() - t0) / 1_000_000 + " ms, the upload finished meanwhile");
      assertThat(OpenSshSftpIT.sha256(landed)).isEqualTo(OpenSshSftpIT.sha256(src));
      String log = Files.readString(gw.log());
      assertThat(log).contains("draining: no new connections").contains("\"session.terminated\"").contains("the gateway is stopping")
          .doesNotContain("transfer cut");
    } finally {
      stop(gw.process());
    }
  }

  static String readQuietly(Path p) {
    try {
      return Files.readString(p);
    } catch (java.io.IOException e) {
      return e.toString();
    }
  }

  static boolean connects(int port) {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  static String hostKeyLines(String out) {
    StringBuilder sb = new StringBuilder();
    for (String l : out.split("\n")) {
      if (l.matches("\\s+\\d+ SHA256:\\S+ \\(\\w+\\)")) {
        sb.append(l.trim()).append('\n');
      }
    }
    return sb.toString();
  }

}
