package dev.sftp.operator.render;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Security;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Host keys without Bouncy Castle's provider: what the operator writes and reads with the JDK's
 * Ed25519 is checked against OpenSSH's own {@code ssh-keygen}.
 */
class JdkEd25519Test {
  @TempDir Path dir;

  @Test
  void generatedKeysAreReadByOpenSshAsTheOperatorReportsThem() throws Exception {
    Map<String, String> generated = HostKeyMaterial.generate();
    List<HostKeyMaterial.ParsedKey> parsed = HostKeyMaterial.parse(base64(generated));
    assertThat(parsed).hasSize(3);
    for (HostKeyMaterial.ParsedKey key : parsed) {
      Path file = write(key.secretKey(), generated.get(key.secretKey()));
      // The private key file as OpenSSH reads it: its public half and its fingerprint.
      assertThat(sshKeygen("-y", "-f", file.toString())).startsWith(key.publicLine());
      assertThat(sshKeygen("-l", "-E", "sha256", "-f", file.toString())).contains(" " + key.fingerprint() + " ");
    }
    assertThat(parsed).extracting(HostKeyMaterial.ParsedKey::type).contains("ssh-ed25519");
    assertNoBouncyCastleProvider();
  }

  @Test
  void keysMadeByOpenSshAreReadWithTheirOwnPublicHalf() throws Exception {
    Path file = dir.resolve("ssh_host_ed25519_key");
    sshKeygen("-q", "-t", "ed25519", "-N", "", "-C", "", "-f", file.toString());
    String pub = Files.readString(dir.resolve("ssh_host_ed25519_key.pub")).trim();
    var parsed = HostKeyMaterial.parse(Map.of("ssh_host_ed25519_key", Base64.getEncoder().encodeToString(Files.readAllBytes(file))));
    assertThat(parsed).singleElement().satisfies(k -> {
      assertThat(k.type()).isEqualTo("ssh-ed25519");
      assertThat(pub).startsWith(k.publicLine());
    });
    assertNoBouncyCastleProvider();
  }

  /** A PKCS#8 PEM holds no public key: it is derived from the seed, and must be the pair's own. */
  @Test
  void thePublicHalfOfAPkcs8KeyIsThePairsOwn() throws Exception {
    KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
    var parsed = HostKeyMaterial.parse(base64(Map.of("ssh_host_ed25519_key", pkcs8Pem(pair.getPrivate().getEncoded()))));
    assertThat(parsed).singleElement().satisfies(k -> assertThat(k.publicLine()).isEqualTo(PublicKeyEntry.toString(pair.getPublic())));
  }

  /** A host key Secret is input: a seed of the wrong length is a refused key, not a crash. */
  @Test
  void aPkcs8KeyWithASeedOfTheWrongLengthIsRefused() {
    for (int length : new int[] {0, 31, 33, 64}) {
      // PKCS#8 v1 for Ed25519 (OID 1.3.101.112) around an OCTET STRING of the given length.
      byte[] der = new byte[16 + length];
      byte[] head = {0x30, (byte) (14 + length), 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, (byte) (2 + length), 0x04, (byte) length};
      System.arraycopy(head, 0, der, 0, head.length);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> HostKeyMaterial.parse(base64(Map.of("ssh_host_ed25519_key", pkcs8Pem(der)))))
          .as("seed of %d bytes", length)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("data key 'ssh_host_ed25519_key' is not a private key");
    }
  }

  private static void assertNoBouncyCastleProvider() {
    assertThat(Security.getProvider("BC")).as("Bouncy Castle registered as a JCA provider").isNull();
    assertThat(SecurityUtils.isEDDSACurveSupported()).isTrue();
    assertThat(SecurityUtils.getRegisteredProviders()).containsExactly("JdkEd25519");
  }

  private static String pkcs8Pem(byte[] der) {
    return "-----BEGIN PRIVATE KEY-----\n" + Base64.getMimeEncoder().encodeToString(der) + "\n-----END PRIVATE KEY-----\n";
  }

  private static Map<String, String> base64(Map<String, String> files) {
    return files.entrySet().stream().collect(java.util.stream.Collectors.toMap(Map.Entry::getKey,
        e -> Base64.getEncoder().encodeToString(e.getValue().getBytes(StandardCharsets.US_ASCII))));
  }

  private Path write(String name, String content) throws IOException {
    Path file = dir.resolve(name);
    Files.writeString(file, content, StandardCharsets.US_ASCII);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    return file;
  }

  private static String sshKeygen(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("ssh-keygen"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("ssh-keygen %s: %s", String.join(" ", args), out).isZero();
    return out.trim();
  }
}
