package dev.sftp.operator.render;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.digest.BuiltinDigests;
import org.apache.sshd.common.util.security.SecurityUtils;

/** Host keys: generated for a new gateway, or parsed from a Secret to report fingerprints. */
public final class HostKeyMaterial {
  static {
    JdkEd25519.install(); // before MINA's first look at its registrars: no Bouncy Castle provider here
  }

  private HostKeyMaterial() {}

  /** One parsed host key. */
  public record ParsedKey(String secretKey, String type, String fingerprint, String publicLine) {}

  /** The data keys of generated host keys. */
  public static final List<String> GENERATED_FILES = List.of("ssh_host_ecdsa_key", "ssh_host_ed25519_key", "ssh_host_rsa_key");

  /** Generates ed25519, ECDSA P-256 and RSA 3072 keys as OpenSSH private key files, by data key. */
  public static Map<String, String> generate() {
    Map<String, String> out = new TreeMap<>();
    try {
      out.put("ssh_host_ed25519_key", write(KeyPairGenerator.getInstance(SecurityUtils.ED25519).generateKeyPair()));
      out.put("ssh_host_ecdsa_key", write(KeyUtils.generateKeyPair("ecdsa-sha2-nistp256", 256)));
      out.put("ssh_host_rsa_key", write(KeyUtils.generateKeyPair("ssh-rsa", 3072)));
    } catch (Exception e) {
      throw new IllegalStateException("cannot generate host keys: " + e.getMessage(), e);
    }
    return out;
  }

  private static String write(KeyPair kp) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(kp, "sftp-gateway", null, out);
    return out.toString(StandardCharsets.US_ASCII);
  }

  /**
   * Parses every data key of a host key Secret (base64 values, as the API returns them).
   *
   * @throws IllegalArgumentException naming the key that is not a usable private key
   */
  public static List<ParsedKey> parse(Map<String, String> secretData) {
    if (secretData == null || secretData.isEmpty()) {
      throw new IllegalArgumentException("the Secret has no data: it needs private keys such as ssh_host_ed25519_key");
    }
    List<ParsedKey> out = new ArrayList<>();
    for (Map.Entry<String, String> e : new TreeMap<>(secretData).entrySet()) {
      if (e.getKey().endsWith(".pub")) {
        continue;
      }
      byte[] bytes;
      try {
        bytes = Base64.getDecoder().decode(e.getValue());
      } catch (IllegalArgumentException ex) {
        throw new IllegalArgumentException("data key '" + e.getKey() + "' is not base64");
      }
      Iterable<KeyPair> pairs;
      try {
        pairs = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(e.getKey()), new ByteArrayInputStream(bytes), null);
      } catch (Exception ex) {
        throw new IllegalArgumentException("data key '" + e.getKey() + "' is not a private key in OpenSSH or PEM format (" + ex.getMessage() + ")");
      }
      if (pairs == null || !pairs.iterator().hasNext()) {
        throw new IllegalArgumentException("data key '" + e.getKey() + "' is not a private key in OpenSSH or PEM format");
      }
      for (KeyPair kp : pairs) {
        String type = KeyUtils.getKeyType(kp);
        if (type == null || type.contains("dss")) {
          throw new IllegalArgumentException("data key '" + e.getKey() + "' is a DSA key, which is refused");
        }
        out.add(new ParsedKey(e.getKey(), type, KeyUtils.getFingerPrint(BuiltinDigests.sha256, kp.getPublic()), PublicKeyEntry.toString(kp.getPublic())));
      }
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("the Secret holds only .pub files: it needs the private keys");
    }
    return out;
  }

  /** known_hosts lines for a host and port ({@code [host]:port} unless the port is 22). */
  public static String knownHosts(String host, int port, List<ParsedKey> keys) {
    return dev.sftp.contract.KnownHosts.lines(host, port, keys.stream().map(ParsedKey::publicLine).toList());
  }
}
