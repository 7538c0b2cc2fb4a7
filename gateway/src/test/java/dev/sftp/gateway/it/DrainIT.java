package dev.sftp.gateway.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.sftp.contract.ServerSettings;
import dev.sftp.gateway.support.AuditCapture;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The drain's other end: a transfer longer than the shutdown grace time is cut, audited, and what it wrote stays. */
class DrainIT {
  @TempDir Path tmp;
  @RegisterExtension final AuditCapture audit = new AuditCapture();

  @Test
  void aTransferPastTheGraceTimeIsCutAndItsFileKept() throws Exception {
    ServerSettings s = TestGateway.settings(null);
    ServerSettings quick = s.toBuilder().shutdownGraceSeconds(1).build();
    Path src = tmp.resolve("src.bin");
    Files.write(src, new byte[32 << 20]);
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), quick, TestGateway.user("alice", "ed25519"))) {
      Files.createDirectories(gw.home("alice"));
      // About 1 MB/s: 30 s for the whole file, far past the 1 s grace.
      CompletableFuture<Proc.Result> upload = CompletableFuture.supplyAsync(
          () -> Clients.sftpWith(gw, Login.key("alice", "ed25519"), List.of("-l", "8000"), "put " + src + " big.bin"));
      Path landed = gw.home("alice").resolve("big.bin");
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(landed) && Files.size(landed) > 0);
      long t0 = System.nanoTime();
      gw.server().drain(gw.server().shutdownGrace());
      long ms = (System.nanoTime() - t0) / 1_000_000;
      Proc.Result r = upload.get(60, java.util.concurrent.TimeUnit.SECONDS);
      System.out.println("DrainIT: drain returned after " + ms + " ms; sftp exit " + r.exit() + "; kept " + Files.size(landed) + " bytes");
      assertThat(r.exit()).as("the client sees its upload fail").isNotZero();
      assertThat(Files.size(landed)).as("what was written stays").isPositive().isLessThan(32L << 20);
      assertThat(audit.lines()).anyMatch(l -> l.contains("\"session.terminated\"") && l.contains("\"limit\":\"shutdown\"")
          && l.contains("transfer cut after the shutdown grace time (1 s)"));
      assertThat(gw.server().isDraining()).isTrue();
    }
  }
}
