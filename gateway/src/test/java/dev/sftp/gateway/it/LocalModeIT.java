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

  record Started(Process process, String output) {}

  Started startLocal(int port) throws Exception {
    Path log = cwd.resolve("gateway-" + System.nanoTime() + ".log");
    ProcessBuilder pb = new ProcessBuilder("java", "-Dquarkus.management.port=0", "-jar", JAR.toString(), "local", "--port", String.valueOf(port));
    pb.directory(cwd.toFile());
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    await().atMost(Duration.ofSeconds(90)).until(() -> !p.isAlive() || Files.readString(log).contains("Stop with Ctrl+C"));
    String out = Files.readString(log);
    assertThat(p.isAlive()).as(out).isTrue();
    // main() chose the gateway's SLF4J provider before Quarkus started (GatewayMain warns if not).
    assertThat(out).doesNotContain("logger cache").doesNotContain("SLF4J(");
    return new Started(p, out);
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
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Started first = startLocal(port);
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
