package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static dev.sftp.gateway.it.OpenSshSftpIT.randomFile;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sftp.contract.ContractJson;
import dev.sftp.contract.PathRule;
import dev.sftp.contract.Permission;
import dev.sftp.contract.UserEntry;
import dev.sftp.gateway.audit.AuditLog;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Keys;
import dev.sftp.gateway.support.TestGateway;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** One JSON line per login and per file operation; never a password or a hash in any log. */
class AuditIT {
  @TempDir Path tmp;
  final List<String> audit = Collections.synchronizedList(new ArrayList<>());
  final List<String> everything = Collections.synchronizedList(new ArrayList<>());
  final Handler auditHandler = handler(audit);
  final Handler rootHandler = handler(everything);

  static Handler handler(List<String> sink) {
    return new Handler() {
      @Override
      public void publish(LogRecord r) {
        sink.add(String.valueOf(r.getMessage()) + (r.getThrown() == null ? "" : " " + r.getThrown()));
      }

      @Override
      public void flush() {}

      @Override
      public void close() {}
    };
  }

  @BeforeEach
  void capture() {
    Logger.getLogger(AuditLog.CATEGORY).addHandler(auditHandler);
    Logger.getLogger("").addHandler(rootHandler);
  }

  @AfterEach
  void release() {
    Logger.getLogger(AuditLog.CATEGORY).removeHandler(auditHandler);
    Logger.getLogger("").removeHandler(rootHandler);
  }

  List<JsonNode> events(String type) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    for (String line : new ArrayList<>(audit)) {
      JsonNode n = ContractJson.mapper().readTree(line);
      if (n.path("event").asText().equals(type)) {
        out.add(n);
      }
    }
    return out;
  }

  @Test
  void loginsAndFileOperationsAreAuditedWithoutSecrets() throws Exception {
    UserEntry frank = new UserEntry("frank", TestGateway.hash(TestGateway.PASSWORD), List.of(Keys.publicLine("ed25519")), "frank", false, null, null, false, null,
        List.of(new PathRule("/locked", List.of())), null);
    try (TestGateway gw = TestGateway.start(tmp.resolve("gw"), frank)) {
      Path src = randomFile(tmp.resolve("up.bin"), 12345, 51);
      ok(Clients.sftp(gw, Login.password("frank", TestGateway.PASSWORD), "put " + src + " up.bin", "mkdir d", "rename up.bin d/up.bin", "-mkdir locked/x", "rm d/up.bin"));
      ok(Clients.sftp(gw, Login.key("frank", "ed25519"), "pwd"));
      Clients.sftp(gw, Login.password("frank", "not the password"), "pwd");
      Clients.sftp(gw, Login.password("ghost", "whatever it is"), "pwd");

      for (String line : audit) {
        assertThat(ContractJson.mapper().readTree(line).isObject()).as(line).isTrue();
      }
      assertThat(events("login.success")).anySatisfy(e -> {
        assertThat(e.path("user").asText()).isEqualTo("frank");
        assertThat(e.path("client").asText()).isEqualTo("127.0.0.1");
        assertThat(e.path("method").asText()).isEqualTo("password");
      }).anySatisfy(e -> assertThat(e.path("method").asText()).isEqualTo("publickey"));
      assertThat(events("login.failure")).anySatisfy(e -> {
        assertThat(e.path("user").asText()).isEqualTo("frank");
        assertThat(e.path("reason").asText()).isEqualTo("wrong password");
        assertThat(e.path("client").asText()).isEqualTo("127.0.0.1");
      }).anySatisfy(e -> {
        assertThat(e.path("user").asText()).isEqualTo("ghost");
        assertThat(e.path("reason").asText()).isEqualTo("unknown user");
      });
      assertThat(events("file.write")).anySatisfy(e -> {
        assertThat(e.path("path").asText()).isEqualTo("/up.bin");
        assertThat(e.path("bytesWritten").asLong()).isEqualTo(12345);
        assertThat(e.path("result").asText()).isEqualTo("ok");
      });
      assertThat(events("rename")).anySatisfy(e -> assertThat(e.path("target").asText()).isEqualTo("/d/up.bin"));
      assertThat(events("file.remove")).anySatisfy(e -> assertThat(e.path("path").asText()).isEqualTo("/d/up.bin"));
      assertThat(events("permission.denied")).anySatisfy(e -> {
        assertThat(e.path("permission").asText()).isEqualTo("mkdir");
        assertThat(e.path("path").asText()).isEqualTo("/locked/x");
      });
      String hash = TestGateway.hash(TestGateway.PASSWORD);
      for (String line : new ArrayList<>(everything)) {
        assertThat(line).doesNotContain(TestGateway.PASSWORD).doesNotContain("not the password")
            .doesNotContain("whatever it is").doesNotContain(hash);
      }
      assertThat(everything).isNotEmpty();
    }
  }
}
