package dev.sftp.gateway.config;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.digest.BuiltinDigests;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * Host keys from files in OpenSSH or PEM format. Files are read as bytes, whatever their mode or
 * owner and through symbolic links, because that is how Kubernetes mounts Secrets (a {@code
 * ..data} link, modes such as 0440, group owned through fsGroup).
 */
public final class HostKeys {
  private HostKeys() {}

  /** One loaded host key. */
  public record HostKey(String file, KeyPair keyPair) {
    public PublicKey publicKey() {
      return keyPair.getPublic();
    }

    /** As {@code ssh-keygen -lf} prints it: {@code 256 SHA256:... (ED25519)}. */
    public String fingerprintLine() {
      int bits = label().equals("ED25519") ? 256 : KeyUtils.getKeySize(publicKey());
      return bits + " " + sha256() + " (" + label() + ")";
    }

    public String sha256() {
      return KeyUtils.getFingerPrint(BuiltinDigests.sha256, publicKey());
    }

    /** The {@code type base64} public key line. */
    public String publicKeyLine() {
      return PublicKeyEntry.toString(publicKey());
    }

    private String label() {
      String t = KeyUtils.getKeyType(publicKey());
      if (t.startsWith("ecdsa")) {
        return "ECDSA";
      }
      if (t.contains("ed25519")) {
        return "ED25519";
      }
      if (t.contains("rsa")) {
        return "RSA";
      }
      return t.toUpperCase(java.util.Locale.ROOT);
    }
  }

  /**
   * Loads every file; a file that cannot be read or parsed fails the whole start with a message
   * naming the file, since serving with a different key set would change the server's identity.
   */
  public static List<HostKey> load(Path configDir, List<String> files) throws IOException {
    List<HostKey> out = new ArrayList<>();
    for (String f : files) {
      Path p = configDir.resolve(f);
      byte[] bytes;
      try {
        bytes = Files.readAllBytes(p);
      } catch (IOException e) {
        throw new IOException("cannot read host key " + p + ": " + e, e);
      }
      Iterable<KeyPair> pairs;
      try {
        pairs = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(f), new ByteArrayInputStream(bytes), null);
      } catch (Exception e) {
        throw new IOException("host key " + p + " is not a private key in OpenSSH or PEM format: " + e.getMessage(), e);
      }
      if (pairs == null || !pairs.iterator().hasNext()) {
        throw new IOException("host key " + p + " holds no private key");
      }
      for (KeyPair kp : pairs) {
        String type = KeyUtils.getKeyType(kp);
        if (type != null && type.contains("dss")) {
          throw new IOException("host key " + p + " is a DSA key, which is refused");
        }
        out.add(new HostKey(f, kp));
      }
    }
    return out;
  }

  /**
   * Generates the three host keys the project uses (ed25519, ECDSA P-256, RSA 3072) into {@code
   * dir}, skipping any that already exist, and returns their file names.
   */
  public static List<String> generateMissing(Path dir) throws IOException {
    Files.createDirectories(dir);
    List<String> names = new ArrayList<>();
    generate(dir, "ssh_host_ed25519_key", "ssh-ed25519", 256, names);
    generate(dir, "ssh_host_ecdsa_key", "ecdsa-sha2-nistp256", 256, names);
    generate(dir, "ssh_host_rsa_key", "ssh-rsa", 3072, names);
    return names;
  }

  private static void generate(Path dir, String name, String type, int bits, List<String> names) throws IOException {
    Path file = dir.resolve(name);
    names.add(name);
    if (Files.exists(file)) {
      return;
    }
    try {
      KeyPair kp = KeyUtils.generateKeyPair(type, bits);
      writePrivateKey(file, kp, "sftp-gateway");
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException("cannot generate " + type + " host key: " + e.getMessage(), e);
    }
  }

  /** Writes an unencrypted OpenSSH private key with mode 0600, and the .pub beside it. */
  public static void writePrivateKey(Path file, KeyPair kp, String comment) throws IOException {
    Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
    Files.deleteIfExists(tmp);
    Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try (OutputStream out = Files.newOutputStream(tmp, StandardOpenOption.TRUNCATE_EXISTING)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(kp, comment, null, out);
    } catch (java.security.GeneralSecurityException e) {
      throw new IOException(e);
    }
    Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    Files.writeString(file.resolveSibling(file.getFileName() + ".pub"), PublicKeyEntry.toString(kp.getPublic()) + " " + comment + "\n");
  }
}
