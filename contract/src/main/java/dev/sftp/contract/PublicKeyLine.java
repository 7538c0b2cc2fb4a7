package dev.sftp.contract;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.Set;

/**
 * A structural check of one OpenSSH public key line ({@code type base64 [comment]}) that both
 * sides share: the operator reports problems as conditions, the gateway disables the user.
 *
 * @param type key type, such as {@code ssh-ed25519}
 * @param blob the decoded key
 * @param comment trailing comment, may be empty
 */
public record PublicKeyLine(String type, byte[] blob, String comment) {
  /** Key types the gateway accepts. DSA is refused; RSA keys are used with SHA-2 signatures. */
  public static final Set<String> ACCEPTED_TYPES =
      Set.of(
          "ssh-ed25519",
          "ecdsa-sha2-nistp256",
          "ecdsa-sha2-nistp384",
          "ecdsa-sha2-nistp521",
          "ssh-rsa",
          "sk-ssh-ed25519@openssh.com",
          "sk-ecdsa-sha2-nistp256@openssh.com");

  /** Smallest RSA modulus accepted, in bits. */
  public static final int MIN_RSA_BITS = 2048;

  /**
   * Parses and checks a line.
   *
   * @throws IllegalArgumentException with a message a person can act on
   */
  public static PublicKeyLine parse(String line) {
    if (line == null || line.isBlank()) {
      throw new IllegalArgumentException("empty public key");
    }
    String[] parts = line.trim().split("\\s+", 3);
    String type = parts[0];
    if (type.equals("ssh-dss")) {
      throw new IllegalArgumentException("DSA keys (ssh-dss) are refused: use an ed25519 key");
    }
    if (!ACCEPTED_TYPES.contains(type)) {
      throw new IllegalArgumentException(
          "'"
              + abbreviate(type)
              + "' is not a supported key type (authorized_keys options are not supported either);"
              + " expected a line such as 'ssh-ed25519 AAAA... comment'");
    }
    if (parts.length < 2) {
      throw new IllegalArgumentException("the " + type + " key has no base64 data");
    }
    byte[] blob;
    try {
      blob = Base64.getDecoder().decode(parts[1]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the " + type + " key data is not valid base64");
    }
    ByteBuffer buf = ByteBuffer.wrap(blob);
    String inner = new String(readString(buf, type), StandardCharsets.US_ASCII);
    if (!inner.equals(type)) {
      throw new IllegalArgumentException(
          "the key data says '" + abbreviate(inner) + "' but the line says '" + type + "'");
    }
    if (type.equals("ssh-rsa")) {
      readString(buf, type); // public exponent
      int bits = new BigInteger(readString(buf, type)).bitLength();
      if (bits < MIN_RSA_BITS) {
        throw new IllegalArgumentException(
            "RSA key of " + bits + " bits is too short, at least " + MIN_RSA_BITS + " are required");
      }
    }
    return new PublicKeyLine(type, blob, parts.length > 2 ? parts[2] : "");
  }

  /** The fingerprint as {@code ssh-keygen -l} prints it: {@code SHA256:} and unpadded base64. */
  public String sha256Fingerprint() {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(blob);
      return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] readString(ByteBuffer buf, String type) {
    if (buf.remaining() < 4) {
      throw new IllegalArgumentException("the " + type + " key data is truncated");
    }
    int len = buf.getInt();
    if (len < 0 || len > buf.remaining()) {
      throw new IllegalArgumentException("the " + type + " key data is truncated");
    }
    byte[] out = new byte[len];
    buf.get(out);
    return out;
  }

  private static String abbreviate(String s) {
    return s.length() > 40 ? s.substring(0, 40) + "..." : s;
  }
}
