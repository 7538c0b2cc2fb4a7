package dev.sftp.gateway.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Key pairs made by the real {@code ssh-keygen}, once per JVM. */
public final class Keys {
  private static final Map<String, Path> CACHE = new ConcurrentHashMap<>();
  private static Path dir;

  private Keys() {}

  /** A private key file of the given type ("ed25519", "ecdsa", "rsa", "rsa-pem", "rsa1024", "dsa"). */
  public static synchronized Path key(String kind) {
    return CACHE.computeIfAbsent(kind, Keys::generate);
  }

  public static String publicLine(String kind) {
    try {
      return Files.readString(Path.of(key(kind) + ".pub")).trim();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Generates a fresh key pair in {@code target} (not cached). */
  public static Path generate(String kind, Path target) {
    List<String> cmd = switch (kind) {
      case "ed25519" -> List.of("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-" + kind, "-f", target.toString());
      case "ecdsa" -> List.of("ssh-keygen", "-q", "-t", "ecdsa", "-b", "256", "-N", "", "-C", "test-" + kind, "-f", target.toString());
      case "rsa" -> List.of("ssh-keygen", "-q", "-t", "rsa", "-b", "3072", "-N", "", "-C", "test-" + kind, "-f", target.toString());
      case "rsa-pem" -> List.of("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-m", "PEM", "-N", "", "-C", "test-" + kind, "-f", target.toString());
      case "rsa1024" -> List.of("ssh-keygen", "-q", "-t", "rsa", "-b", "1024", "-N", "", "-C", "test-" + kind, "-f", target.toString());
      case "dsa" -> List.of("ssh-keygen", "-q", "-t", "dsa", "-N", "", "-C", "test-" + kind, "-f", target.toString());
      default -> throw new IllegalArgumentException(kind);
    };
    Proc.Result r = Proc.run(cmd, Map.of(), null, Duration.ofSeconds(60));
    if (r.exit() != 0) {
      throw new IllegalStateException(r.toString());
    }
    return target;
  }

  private static Path generate(String kind) {
    try {
      if (dir == null) {
        dir = Files.createTempDirectory("sftp-test-keys");
      }
      return generate(kind, dir.resolve("id_" + kind));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
