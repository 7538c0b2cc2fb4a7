package dev.sftp.gateway.crypto;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import javax.crypto.AEADBadTagException;
import org.apache.sshd.common.cipher.ChaCha20Cipher;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.mac.Poly1305Mac;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JDK-based chacha20-poly1305@openssh.com against MINA's reference engine and RFC 8439. */
class JdkChaCha20Poly1305Test {
  @Test
  void poly1305MatchesTheRfc8439Vector() {
    // RFC 8439, 2.5.2.
    byte[] key = HexFormat.of().parseHex("85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b");
    byte[] msg = "Cryptographic Forum Research Group".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    Poly1305 p = new Poly1305();
    p.init(key, 0);
    p.update(msg, 0, msg.length);
    byte[] tag = new byte[16];
    p.finish(tag, 0);
    assertThat(HexFormat.of().formatHex(tag)).isEqualTo("a8061dc1305136c6c22b8baf0c0127a9");
  }

  /**
   * RFC 8439 appendix A.3, vectors #1 and #5 to #11: the edge cases (carries through every limb,
   * accumulators just above and below 2^130-5, a final value that partial reduction leaves
   * unreduced). #2 to #4 are long texts with ordinary values; the random cross-checks below cover
   * those. Each is fed whole, byte by byte and in two uneven parts, to both engines.
   */
  @ParameterizedTest
  @ValueSource(strings = {"ours", "jdk"})
  void poly1305MeetsTheEdgeCasesOfRfc8439AppendixA3(String name) {
    String[][] vectors = {
        // #, key (r || s), message, tag
        {"1", "00".repeat(32), "00".repeat(64), "00".repeat(16)},
        {"5", "02" + "00".repeat(31), "ff".repeat(16), "03" + "00".repeat(15)},
        {"6", "02" + "00".repeat(15) + "ff".repeat(16), "02" + "00".repeat(15), "03" + "00".repeat(15)},
        {"7", "01" + "00".repeat(31), "ff".repeat(16) + "f0" + "ff".repeat(15) + "11" + "00".repeat(15), "05" + "00".repeat(15)},
        {"8", "01" + "00".repeat(31), "ff".repeat(16) + "fb" + "fe".repeat(15) + "01".repeat(16), "00".repeat(16)},
        {"9", "02" + "00".repeat(31), "fd" + "ff".repeat(15), "fa" + "ff".repeat(15)},
        {"10", "0100000000000000040000000000000000000000000000000000000000000000",
            "e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000",
            "14000000000000005500000000000000"},
        {"11", "0100000000000000040000000000000000000000000000000000000000000000",
            "e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000",
            "13000000000000000000000000000000"},
    };
    HexFormat hex = HexFormat.of();
    for (String[] v : vectors) {
      byte[] key = hex.parseHex(v[1]);
      byte[] msg = hex.parseHex(v[2]);
      for (int split : new int[] {-1, 0, 1, 7, 16, 17, msg.length}) {
        OneTimeMac m = engine(name);
        m.init(key, 0);
        if (split < 0) {
          for (int i = 0; i < msg.length; i++) {
            m.update(msg, i, 1);
          }
        } else {
          int at = Math.min(split, msg.length);
          m.update(msg, 0, at);
          m.update(msg, at, msg.length - at);
        }
        byte[] tag = new byte[16];
        m.finish(tag, 0);
        assertThat(hex.formatHex(tag)).as("vector #%s split %d", v[0], split).isEqualTo(v[3]);
      }
    }
  }

  @Test
  void poly1305MatchesMinaForAnyLengthAndSplit() throws Exception {
    Random rnd = new Random(42);
    for (int round = 0; round < 2000; round++) {
      byte[] key = new byte[32];
      rnd.nextBytes(key);
      if (round % 7 == 0) {
        Arrays.fill(key, 0, 16, (byte) 0xff); // largest r after clamping
      }
      if (round % 13 == 0) {
        Arrays.fill(key, 16, 32, (byte) 0xff); // s that carries out of every 64-bit half
      }
      byte[] msg = new byte[rnd.nextInt(600)];
      rnd.nextBytes(msg);
      if (round % 11 == 0) {
        Arrays.fill(msg, (byte) 0xff); // carries everywhere
      }
      Poly1305Mac ref = new Poly1305Mac();
      ref.init(key);
      ref.update(msg, 0, msg.length);
      byte[] expected = ref.doFinal();

      Poly1305 p = new Poly1305();
      p.init(key, 0);
      int off = 0;
      while (off < msg.length) {
        int n = Math.min(msg.length - off, 1 + rnd.nextInt(40));
        p.update(msg, off, n);
        off += n;
      }
      byte[] tag = new byte[16];
      p.finish(tag, 0);
      assertThat(tag).as("round %d, %d bytes", round, msg.length).isEqualTo(expected);
    }
  }

  /** A packet as MINA's session handles one: 4-byte length as associated data, then the payload, then the tag. */
  static byte[] seal(Cipher c, byte[] payload) throws Exception {
    byte[] buf = new byte[4 + payload.length + 16];
    buf[0] = (byte) (payload.length >>> 24);
    buf[1] = (byte) (payload.length >>> 16);
    buf[2] = (byte) (payload.length >>> 8);
    buf[3] = (byte) payload.length;
    System.arraycopy(payload, 0, buf, 4, payload.length);
    c.updateAAD(buf, 0, 4);
    c.update(buf, 4, payload.length);
    return buf;
  }

  /** Both Poly1305 engines, whichever this CPU would pick. */
  static OneTimeMac engine(String name) {
    if (name.equals("jdk")) {
      // The build opens com.sun.crypto.provider to the tests, as the image's ENTRYPOINT does.
      assertThat(JdkPoly1305.REACHABLE).as("the JDK's Poly1305: %s", JdkPoly1305.WHY_NOT).isTrue();
      return new JdkPoly1305();
    }
    return new Poly1305();
  }

  @Test
  void theJdksPoly1305GivesOurTagsForAnyKeyLengthAndSplit() {
    Random rnd = new Random(43);
    OneTimeMac jdk = engine("jdk");
    for (int round = 0; round < 2000; round++) {
      byte[] key = new byte[32];
      rnd.nextBytes(key);
      if (round % 7 == 0) {
        Arrays.fill(key, 0, 16, (byte) 0xff);
      }
      byte[] msg = new byte[round % 50 == 0 ? 32 * 1024 + rnd.nextInt(64) : rnd.nextInt(600)];
      rnd.nextBytes(msg);
      if (round % 11 == 0) {
        Arrays.fill(msg, (byte) 0xff);
      }
      byte[] expected = new byte[16];
      Poly1305 ours = new Poly1305();
      ours.init(key, 0);
      ours.update(msg, 0, msg.length);
      ours.finish(expected, 0);
      jdk.init(key, 0); // one engine for all messages, as a cipher reuses it for every packet
      int off = 0;
      while (off < msg.length) {
        int n = Math.min(msg.length - off, 1 + rnd.nextInt(round % 2 == 0 ? 40 : 5000));
        jdk.update(msg, off, n);
        off += n;
      }
      byte[] tag = new byte[16];
      jdk.finish(tag, 0);
      assertThat(tag).as("round %d, %d bytes", round, msg.length).isEqualTo(expected);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"own", "jdk"})
  void packetsAreIdenticalToMinasAndOpenEachOther(String poly1305) throws Exception {
    Random rnd = new Random(7);
    byte[] key = new byte[64];
    rnd.nextBytes(key);
    byte[] iv = HexFormat.of().parseHex("00000000fffffffe"); // the sequence number crosses 2^32
    Cipher mina = new ChaCha20Cipher();
    mina.init(Cipher.Mode.Encrypt, key, iv);
    Cipher mine = new JdkChaCha20Poly1305(engine(poly1305));
    mine.init(Cipher.Mode.Encrypt, key, iv);
    Cipher opener = new JdkChaCha20Poly1305(engine(poly1305));
    opener.init(Cipher.Mode.Decrypt, key, iv);
    for (int i = 0; i < 50; i++) {
      byte[] payload = new byte[8 * (1 + rnd.nextInt(i % 5 == 0 ? 32 * 1024 : 200))];
      rnd.nextBytes(payload);
      byte[] a = seal(mina, payload);
      byte[] b = seal(mine, payload);
      assertThat(b).as("packet %d", i).isEqualTo(a);
      opener.updateAAD(b, 0, 4);
      assertThat(b[3]).isEqualTo((byte) payload.length);
      opener.update(b, 4, payload.length);
      assertThat(Arrays.copyOfRange(b, 4, 4 + payload.length)).isEqualTo(payload);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"own", "jdk"})
  void aTamperedPacketIsRefused(String poly1305) throws Exception {
    byte[] key = new byte[64];
    new Random(1).nextBytes(key);
    byte[] iv = new byte[8];
    Cipher enc = new JdkChaCha20Poly1305(engine(poly1305));
    enc.init(Cipher.Mode.Encrypt, key, iv);
    Cipher dec = new JdkChaCha20Poly1305(engine(poly1305));
    dec.init(Cipher.Mode.Decrypt, key, iv);
    byte[] sealed = seal(enc, new byte[64]);
    sealed[10] ^= 1;
    dec.updateAAD(sealed, 0, 4);
    assertThatThrownBy(() -> dec.update(sealed, 4, 64)).isInstanceOf(AEADBadTagException.class);
  }
}
