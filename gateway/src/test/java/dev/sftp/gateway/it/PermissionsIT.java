package dev.sftp.gateway.it;

import static dev.sftp.gateway.it.OpenSshSftpIT.ok;
import static dev.sftp.gateway.it.OpenSshSftpIT.randomFile;
import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.contract.PathRule;
import dev.sftp.contract.Permission;
import dev.sftp.contract.SetstatMode;
import dev.sftp.contract.UserEntry;
import dev.sftp.gateway.support.Clients;
import dev.sftp.gateway.support.Clients.Login;
import dev.sftp.gateway.support.Keys;
import dev.sftp.gateway.support.Proc;
import dev.sftp.gateway.support.TestGateway;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Read-only users, per-path rules and the setstat policy, seen by the OpenSSH client. */
class PermissionsIT {
  @TempDir static Path tmp;
  static TestGateway gw;
  static TestGateway lenient;
  static Path local;

  static UserEntry user(String name, String home, boolean readOnly, List<Permission> perms, List<PathRule> rules) {
    return new UserEntry(name, null, List.of(Keys.publicLine("ed25519")), home, false, null, null, readOnly, perms, rules, null);
  }

  @BeforeAll
  static void start() throws IOException {
    List<PathRule> rules = List.of(
        new PathRule("/outgoing", List.of(Permission.LIST, Permission.READ)),
        new PathRule("/incoming", List.of(Permission.WRITE, Permission.MKDIR)),
        new PathRule("/incoming/checked", List.of(Permission.LIST, Permission.READ)));
    gw = TestGateway.start(tmp.resolve("gw"),
        user("reader", "shared", true, null, null),
        user("writer", "shared", false, null, null),
        user("partner", "partner", false, null, rules),
        user("nochmod", "nochmod", false, List.of(Permission.LIST, Permission.READ, Permission.WRITE), null));
    lenient = TestGateway.start(tmp.resolve("lenient"), TestGateway.settings(SetstatMode.IGNORE_ERRORS),
        user("nochmod", "nochmod", false, List.of(Permission.LIST, Permission.READ, Permission.WRITE), null));
    Files.createDirectories(gw.home("shared"));
    Files.writeString(gw.home("shared").resolve("report.csv"), "a,b\n");
    Files.createDirectories(gw.home("partner").resolve("outgoing"));
    Files.createDirectories(gw.home("partner").resolve("incoming/checked"));
    Files.writeString(gw.home("partner").resolve("outgoing/invoice.pdf"), "invoice");
    Files.writeString(gw.home("partner").resolve("incoming/checked/ok.txt"), "ok");
    local = randomFile(tmp.resolve("local/upload.bin"), 1000, 31);
  }

  @AfterAll
  static void stop() throws IOException {
    gw.close();
    lenient.close();
  }

  static void refused(TestGateway g, String user, String command) {
    Proc.Result r = Clients.sftp(g, Login.key(user, "ed25519"), command);
    assertThat(r.exit()).as(user + ": " + command + "\n" + r).isNotZero();
  }

  @Test
  void readOnlyUserListsAndDownloadsButChangesNothing() throws IOException {
    Proc.Result r = ok(Clients.sftp(gw, Login.key("reader", "ed25519"), "ls", "get report.csv " + tmp.resolve("local/report.csv")));
    assertThat(r.out()).contains("report.csv");
    assertThat(tmp.resolve("local/report.csv")).hasContent("a,b");
    refused(gw, "reader", "put " + local + " new.bin");
    refused(gw, "reader", "rm report.csv");
    refused(gw, "reader", "mkdir d");
    refused(gw, "reader", "rename report.csv r.csv");
    refused(gw, "reader", "chmod 777 report.csv");
    refused(gw, "reader", "ln -s report.csv l");
    assertThat(gw.home("shared").resolve("report.csv")).hasContent("a,b");
    assertThat(gw.home("shared").resolve("new.bin")).doesNotExist();
    assertThat(gw.home("shared").resolve("d")).doesNotExist();
    // A writer on the same folder is not affected by the reader's restrictions.
    ok(Clients.sftp(gw, Login.key("writer", "ed25519"), "put " + local + " shared.bin", "rm shared.bin"));
  }

  @Test
  void pathRulesMakeOutgoingReadOnlyAndIncomingUploadOnly() {
    Login partner = Login.key("partner", "ed25519");
    ok(Clients.sftp(gw, partner, "get outgoing/invoice.pdf " + tmp.resolve("local/invoice.pdf")));
    refused(gw, "partner", "put " + local + " outgoing/x.bin");
    refused(gw, "partner", "rm outgoing/invoice.pdf");
    ok(Clients.sftp(gw, partner, "put " + local + " incoming/upload.bin", "mkdir incoming/batch1"));
    assertThat(gw.home("partner").resolve("incoming/upload.bin")).exists();
    refused(gw, "partner", "get incoming/upload.bin " + tmp.resolve("local/back.bin"));
    refused(gw, "partner", "ls incoming");
    refused(gw, "partner", "rm incoming/upload.bin");
    // The longest rule wins: /incoming/checked is readable again.
    ok(Clients.sftp(gw, partner, "get incoming/checked/ok.txt " + tmp.resolve("local/ok.txt")));
    assertThat(gw.home("partner").resolve("outgoing/invoice.pdf")).hasContent("invoice");
  }

  @Test
  void setstatWithoutPermissionFailsUnderEnforceAndIsIgnoredUnderIgnoreErrors() throws IOException {
    Login u = Login.key("nochmod", "ed25519");
    ok(Clients.sftp(gw, u, "put " + local + " f.bin"));
    Path f = gw.home("nochmod").resolve("f.bin");
    refused(gw, "nochmod", "chmod 600 f.bin");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-r--r--");
    // "put -p" sends setstat after the upload: with IgnoreErrors the upload still succeeds.
    ok(Clients.sftp(lenient, u, "put -p " + local + " p.bin", "chmod 600 p.bin"));
    Path p = lenient.home("nochmod").resolve("p.bin");
    assertThat(p).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rw-r--r--");
  }
}
