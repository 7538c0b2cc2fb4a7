package dev.sftp.operator.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.sftp.operator.render.Attachments;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every folder of examples/ goes through the operator's rendering ({@code render}, the same
 * decisions as in the cluster): each has its README, and every user of it is served as the
 * example says.
 */
class ExamplesIT {
  @TempDir Path tmp;

  static Map<String, Attachments.Attachment> byName(Render.Result r) {
    Map<String, Attachments.Attachment> by = new HashMap<>();
    r.users().forEach(a -> by.put(a.user().getMetadata().getNamespace() + "/" + a.user().getMetadata().getName(), a));
    return by;
  }

  @Test
  void everyExampleRendersWithEveryUserServed() throws Exception {
    List<Path> folders;
    try (Stream<Path> s = Files.list(Path.of("../examples"))) {
      folders = s.filter(Files::isDirectory).sorted().toList();
    }
    assertThat(folders.stream().map(p -> p.getFileName().toString()))
        .contains("quickstart", "password-users", "partner-dropbox", "multi-tenant", "loadbalancer-proxy", "gitops");
    for (Path folder : folders) {
      Path readme = folder.resolve("README.md");
      assertThat(readme).as(folder + " has a README").exists();
      assertThat(Files.readAllLines(readme).stream().filter(l -> !l.isBlank()).count()).as(readme.toString()).isLessThanOrEqualTo(4);
      Path config = tmp.resolve(folder.getFileName().toString()).resolve("config");
      Render.Result r = Render.render(List.of(folder), config, null);
      assertThat(r.users()).as(folder.toString()).isNotEmpty()
          .allSatisfy(a -> assertThat(a.reason()).as(folder + ": " + a.user().getMetadata().getName() + " " + a.message()).isNull());
      assertThat(RenderIT.load(config).userErrors()).isEmpty();
    }
  }

  @Test
  void aGeneratedPasswordIsMadeOnceKeptBesideTheConfigAndPrinted() throws Exception {
    Path config = tmp.resolve("config");
    Render.Result r = Render.render(List.of(Path.of("../examples/password-users")), config, null);
    String bob = r.generatedPasswords().get("files/bob-password");
    assertThat(bob).hasSize(24);
    assertThat(r.report("127.0.0.1", 2222)).contains("password (generated, kept in ").contains(bob);
    Path kept = Render.generatedFile(config);
    assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(kept))).isEqualTo("rw-------");
    // Not in the config directory the gateway reads, and only as a hash in the user list.
    try (Stream<Path> files = Files.list(config)) {
      for (Path f : files.toList()) {
        assertThat(Files.readString(f)).doesNotContain(bob);
      }
    }
    String hash = RenderIT.load(config).users().stream().filter(u -> u.name().equals("bob")).findFirst().orElseThrow().passwordHash();
    assertThat(dev.sftp.contract.PasswordHashes.verify(hash, bob)).isTrue();
    // Rendered again: the same password.
    assertThat(Render.render(List.of(Path.of("../examples/password-users")), config, null).generatedPasswords().get("files/bob-password")).isEqualTo(bob);
  }

  @Test
  void theMultiTenantExampleAdmitsLabelledNamespacesAndConfinesEachTenant() throws Exception {
    Render.Result r = Render.render(List.of(Path.of("../examples/multi-tenant")), tmp.resolve("config"), null);
    Map<String, Attachments.Attachment> by = byName(r);
    assertThat(by.get("tenant-a/alice").entry().home()).isEqualTo("tenant-a/alice");
    assertThat(by.get("tenant-b/bob").entry().home()).isEqualTo("tenant-b/bob");
    assertThat(by.get("sftp-platform/platform-admin").entry().home()).isEqualTo(".");
    // Without the label, a tenant's namespace is not admitted.
    Path manifests = Files.createDirectories(tmp.resolve("unlabelled"));
    Files.writeString(manifests.resolve("all.yaml"), Files.readString(Path.of("../examples/multi-tenant/manifests.yaml"))
        .replace("  name: tenant-b\n  labels: {sftp.dev/tenant: \"true\"}", "  name: tenant-b"));
    Map<String, Attachments.Attachment> without = byName(Render.render(List.of(manifests), tmp.resolve("config2"), null));
    assertThat(without.get("tenant-b/bob").served()).isFalse();
    assertThat(without.get("tenant-a/alice").served()).isTrue();
  }
}
