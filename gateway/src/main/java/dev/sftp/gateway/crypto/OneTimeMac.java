package dev.sftp.gateway.crypto;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Poly1305 as the chacha20-poly1305 construction uses it: a new 32-byte key per packet. Two
 * engines: {@link Poly1305} (ours, 64-bit limbs, about 1.2 GiB/s on the machines measured) and
 * {@link JdkPoly1305} (SunJCE's, which HotSpot runs as an intrinsic on CPUs with AVX-512 IFMA or
 * AVX-IFMA: 8-17 GiB/s measured on an AMD EPYC with AVX-512; without the intrinsic it is plain
 * Java with 26-bit limbs, slower than ours). {@link #create} picks.
 */
interface OneTimeMac {
  /** Starts a message with the 32-byte one-time key at {@code key[off..off+32)}. */
  void init(byte[] key, int off);

  void update(byte[] m, int off, int len);

  /** Writes the 16-byte tag at {@code out[off..off+16)}. */
  void finish(byte[] out, int off);

  /**
   * {@code -Dgateway.poly1305=own|jdk|auto} (default auto): the JDK's engine when it can be
   * reached (the image's ENTRYPOINT opens {@code java.base/com.sun.crypto.provider}) and this CPU has
   * what its intrinsic needs; ours otherwise.
   */
  String CHOICE = System.getProperty("gateway.poly1305", "auto").toLowerCase(Locale.ROOT);

  /** Whether {@link #create} gives the JDK's engine. */
  boolean USE_JDK = switch (CHOICE) {
    case "own" -> false;
    case "jdk" -> JdkPoly1305.REACHABLE;
    default -> JdkPoly1305.REACHABLE && Cpu.hasIfma();
  };

  static OneTimeMac create() {
    return USE_JDK ? new JdkPoly1305() : new Poly1305();
  }

  /** What the JDK's Poly1305 intrinsic needs (HotSpot's stub for x86-64), read from the kernel. */
  final class Cpu {
    private Cpu() {}

    static boolean hasIfma() {
      Set<String> flags = flags();
      return flags.contains("avx512ifma") && flags.contains("avx512vl") && flags.contains("avx512bw")
          || flags.contains("avx_ifma");
    }

    static Set<String> flags() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
          if (line.startsWith("flags")) {
            return Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
          }
        }
      } catch (IOException | RuntimeException e) {
        Logger.getLogger(OneTimeMac.class.getName()).fine("no CPU flags: " + e);
      }
      return Set.of();
    }
  }
}
