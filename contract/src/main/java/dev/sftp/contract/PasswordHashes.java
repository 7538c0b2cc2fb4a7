package dev.sftp.contract;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.Argon2BytesGenerator;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.bouncycastle.crypto.params.Argon2Parameters;

/**
 * Password hashes in their standard encodings: argon2id ({@code $argon2id$v=19$m=..,t=..,p=..$salt$hash},
 * as the reference implementation prints it) and bcrypt ({@code $2a$}, {@code $2b$}, {@code $2y$}).
 * Implemented with Bouncy Castle.
 */
public final class PasswordHashes {
  /**
   * argon2id cost of new hashes: 7 MiB, 5 passes, 1 lane, one of the settings OWASP's Password
   * Storage Cheat Sheet lists as equally strong as its first one (19 MiB, 2 passes). Chosen for
   * the memory: each hash being made or checked holds this much heap, in the operator during a
   * bulk import (one at a time) and in the gateway for every password login; it is also faster
   * here (54 against 73-88 ms with the operator's C1-only JIT, docs/benchmarks.md).
   */
  public static final int ARGON2_MEMORY_KIB = 7168;

  public static final int ARGON2_ITERATIONS = 5;
  public static final int ARGON2_PARALLELISM = 1;
  /** An argon2id cost: memory in KiB, passes, lanes. */
  private record Cost(int memoryKib, int iterations, int parallelism) {}

  /** The costs of the hashes this code makes now, and made before (OWASP's 19 MiB, 2 passes). */
  private static final java.util.Set<Cost> OWN_COSTS =
      java.util.Set.of(new Cost(ARGON2_MEMORY_KIB, ARGON2_ITERATIONS, ARGON2_PARALLELISM), new Cost(19456, 2, 1));

  // Upper bounds so that a hostile hash cannot make the gateway allocate or spin without limit.
  private static final int MAX_MEMORY_KIB = 1 << 20;
  private static final int MAX_ITERATIONS = 64;
  private static final int MAX_PARALLELISM = 64;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Base64.Encoder B64 = Base64.getEncoder().withoutPadding();
  private static final Base64.Decoder B64D = Base64.getDecoder();

  private PasswordHashes() {}

  /** Letters and digits without the ones people confuse (0/O, 1/l/I). */
  private static final String PASSWORD_ALPHABET = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

  /**
   * A random password of {@code length} characters from an alphabet of 57 (about 5.8 bits each):
   * for generated user passwords and the local demo user.
   */
  public static String randomPassword(int length) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(PASSWORD_ALPHABET.charAt(RANDOM.nextInt(PASSWORD_ALPHABET.length())));
    }
    return sb.toString();
  }

  /** Hashes a password with argon2id and a fresh random salt. */
  public static String hashArgon2id(String password) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    Argon2 a =
        new Argon2(
            Argon2Parameters.ARGON2_id,
            Argon2Parameters.ARGON2_VERSION_13,
            ARGON2_MEMORY_KIB,
            ARGON2_ITERATIONS,
            ARGON2_PARALLELISM,
            salt,
            null);
    byte[] hash = a.compute(password, 32);
    return a.encode(hash);
  }

  /** Hashes a password with bcrypt ({@code $2y$}) at the given cost. */
  public static String hashBcrypt(String password, int cost) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return OpenBSDBCrypt.generate("2y", password.toCharArray(), salt, cost);
  }

  /**
   * Says what is wrong with an encoded hash, or returns {@code null} when it can be verified.
   * Never echoes the hash itself.
   */
  public static String problem(String encoded) {
    if (encoded == null || encoded.isEmpty()) {
      return "empty password hash";
    }
    if (isBcrypt(encoded)) {
      return encoded.length() == 60 ? null : "malformed bcrypt hash (expected 60 characters)";
    }
    if (encoded.startsWith("$argon2")) {
      try {
        Argon2.parse(encoded);
        return null;
      } catch (IllegalArgumentException e) {
        return e.getMessage();
      }
    }
    return "unsupported password hash: expected an argon2id ($argon2id$...) or bcrypt ($2y$...)"
        + " encoded string, never a plain password";
  }

  /**
   * Whether an encoded hash is an argon2id hash with the cost {@link #hashArgon2id} uses, or the
   * one earlier versions used. Only such a hash is checked again to be kept (the operator, after
   * a restart or an upgrade): a hash of a higher cost that a tenant put in its Secret earlier (up
   * to 1 GiB and 64 passes) must not make the operator do that work when the Secret later holds a
   * plain password.
   */
  public static boolean isDefaultArgon2id(String encoded) {
    if (encoded == null || !encoded.startsWith("$argon2id$")) {
      return false;
    }
    try {
      Argon2 a = Argon2.parse(encoded);
      return OWN_COSTS.contains(new Cost(a.memoryKib(), a.iterations(), a.parallelism()));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /**
   * Checks a password against an encoded hash in constant time with respect to the hash value.
   * Returns false for a malformed hash.
   */
  public static boolean verify(String encoded, String password) {
    if (encoded == null || password == null) {
      return false;
    }
    try {
      if (isBcrypt(encoded)) {
        return OpenBSDBCrypt.checkPassword(encoded, password.toCharArray());
      }
      Argon2 a = Argon2.parse(encoded);
      byte[] actual = a.compute(password, a.expected.length);
      return MessageDigest.isEqual(actual, a.expected);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean isBcrypt(String encoded) {
    return encoded.startsWith("$2a$") || encoded.startsWith("$2b$") || encoded.startsWith("$2y$");
  }

  private record Argon2(
      int type, int version, int memoryKib, int iterations, int parallelism, byte[] salt,
      byte[] expected) {

    static Argon2 parse(String encoded) {
      String[] parts = encoded.split("\\$", -1);
      // "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash  (the v= part may be absent)
      int i = 1;
      if (parts.length < 5) {
        throw new IllegalArgumentException("malformed argon2 hash");
      }
      int type =
          switch (parts[i++]) {
            case "argon2id" -> Argon2Parameters.ARGON2_id;
            case "argon2i" -> Argon2Parameters.ARGON2_i;
            case "argon2d" -> Argon2Parameters.ARGON2_d;
            default -> throw new IllegalArgumentException("unknown argon2 variant");
          };
      int version = Argon2Parameters.ARGON2_VERSION_10;
      if (parts[i].startsWith("v=")) {
        version = parseInt(parts[i++].substring(2), "version");
        if (version != 0x13 && version != 0x10) {
          throw new IllegalArgumentException("unsupported argon2 version " + version);
        }
      }
      if (parts.length != i + 3) {
        throw new IllegalArgumentException("malformed argon2 hash");
      }
      int m = -1;
      int t = -1;
      int p = -1;
      for (String kv : parts[i++].split(",")) {
        String[] pair = kv.split("=", 2);
        if (pair.length != 2) {
          throw new IllegalArgumentException("malformed argon2 parameters");
        }
        switch (pair[0]) {
          case "m" -> m = parseInt(pair[1], "memory");
          case "t" -> t = parseInt(pair[1], "iterations");
          case "p" -> p = parseInt(pair[1], "parallelism");
          default -> throw new IllegalArgumentException("unknown argon2 parameter " + pair[0]);
        }
      }
      if (m < 8 || m > MAX_MEMORY_KIB || t < 1 || t > MAX_ITERATIONS || p < 1
          || p > MAX_PARALLELISM || m < 8 * p) {
        throw new IllegalArgumentException("argon2 parameters out of range (m, t or p)");
      }
      byte[] salt;
      byte[] hash;
      try {
        salt = B64D.decode(parts[i++]);
        hash = B64D.decode(parts[i]);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("argon2 salt or hash is not valid base64");
      }
      if (salt.length < 8 || hash.length < 16) {
        throw new IllegalArgumentException("argon2 salt or hash too short");
      }
      return new Argon2(type, version, m, t, p, salt, hash);
    }

    byte[] compute(String password, int length) {
      Argon2Parameters params =
          new Argon2Parameters.Builder(type)
              .withVersion(version)
              .withMemoryAsKB(memoryKib)
              .withIterations(iterations)
              .withParallelism(parallelism)
              .withSalt(salt)
              .build();
      Argon2BytesGenerator gen = new Argon2BytesGenerator();
      gen.init(params);
      byte[] out = new byte[length];
      gen.generateBytes(password.getBytes(StandardCharsets.UTF_8), out);
      return out;
    }

    String encode(byte[] hash) {
      String name = type == Argon2Parameters.ARGON2_id ? "argon2id" : type == Argon2Parameters.ARGON2_i ? "argon2i" : "argon2d";
      return "$" + name + "$v=" + version + "$m=" + memoryKib + ",t=" + iterations + ",p="
          + parallelism + "$" + B64.encodeToString(salt) + "$" + B64.encodeToString(hash);
    }

    private static int parseInt(String s, String what) {
      try {
        return Integer.parseInt(s);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("argon2 " + what + " is not a number");
      }
    }
  }
}
