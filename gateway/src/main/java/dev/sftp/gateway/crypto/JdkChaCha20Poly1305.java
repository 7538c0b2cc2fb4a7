package dev.sftp.gateway.crypto;

import java.util.Arrays;
import javax.crypto.AEADBadTagException;
import javax.crypto.spec.ChaCha20ParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.apache.sshd.common.cipher.CipherFactory;
import org.apache.sshd.common.cipher.CipherInformation;

/**
 * {@code chacha20-poly1305@openssh.com} (OpenSSH's PROTOCOL.chacha20poly1305) with the JDK's own
 * ChaCha20 for the key stream (SunJCE, an AVX2/AVX-512 intrinsic since JDK 20) and Poly1305 from
 * {@link OneTimeMac#create} (the JDK's where its intrinsic runs, else ours with 64-bit limbs),
 * instead of MINA's pure-Java engine, which is the slowest cipher a stock OpenSSH client picks
 * (it prefers this one).
 *
 * <p>OpenSSH's construction uses the original ChaCha20 (64-bit counter, 64-bit nonce = packet
 * sequence number); the JDK implements RFC 8439 (32-bit counter, 96-bit nonce). With the nonce
 * {@code 00000000 || seqno} and counters below 2^32 (a packet is at most 256 KiB) the two
 * produce the same key stream. Keystream-only use goes through {@code DECRYPT_MODE}, which
 * (unlike {@code ENCRYPT_MODE}) lets the same key and nonce start twice.
 */
public final class JdkChaCha20Poly1305 implements Cipher, SameAsMina {
  /** A factory under the standard name; falls back to MINA's engine where the JDK has no ChaCha20. */
  public static final CipherFactory FACTORY = new Factory();

  /** MINA's engine for the same algorithm: the one source of its sizes and names. */
  static final CipherFactory INFO = BuiltinCiphers.cc20p1305_openssh;

  private static final byte[] ZEROS = new byte[64];

  private final javax.crypto.Cipher header;
  private final javax.crypto.Cipher body;
  private final OneTimeMac mac;
  private final byte[] nonce = new byte[12];
  private final byte[] block0 = new byte[64];
  private final byte[] tag = new byte[16];
  private SecretKeySpec bodyKey;
  private SecretKeySpec headerKey;
  private Mode mode;
  /** The packet sequence number: 32 bits, wrapping to zero (RFC 4253, 6.4), as OpenSSH's. */
  private int seq;

  /** Which Poly1305 engine packets get, and why (for the log). */
  public static String poly1305Engine() {
    if (OneTimeMac.USE_JDK) {
      return "Poly1305 from the JDK (" + OneTimeMac.CHOICE + ")";
    }
    return "our Poly1305 (gateway.poly1305=" + OneTimeMac.CHOICE + (JdkPoly1305.REACHABLE ? "" : "; the JDK's: " + JdkPoly1305.WHY_NOT) + ")";
  }

  public JdkChaCha20Poly1305() throws Exception {
    this(OneTimeMac.create());
  }

  JdkChaCha20Poly1305(OneTimeMac mac) throws Exception {
    this.mac = mac;
    header = javax.crypto.Cipher.getInstance("ChaCha20");
    body = javax.crypto.Cipher.getInstance("ChaCha20");
  }

  @Override
  public void init(Mode mode, byte[] key, byte[] iv) throws Exception {
    this.mode = mode;
    bodyKey = new SecretKeySpec(Arrays.copyOfRange(key, 0, 32), "ChaCha20");
    headerKey = new SecretKeySpec(Arrays.copyOfRange(key, 32, 64), "ChaCha20");
    int s = 0;
    for (int i = 4; i < 8; i++) {
      s = (s << 8) | (iv[i] & 0xff);
    }
    seq = s;
    startPacket();
  }

  private void startPacket() throws Exception {
    // nonce = 32 zero bits (RFC 8439 counter high half) || uint64 big-endian sequence number.
    for (int i = 0; i < 4; i++) {
      nonce[8 + i] = (byte) (seq >>> (24 - 8 * i));
    }
    // Block 0 of the body key stream: its first 32 bytes are the Poly1305 key; the payload
    // continues with block 1, as the construction asks.
    body.init(javax.crypto.Cipher.DECRYPT_MODE, bodyKey, new ChaCha20ParameterSpec(nonce, 0));
    body.update(ZEROS, 0, 64, block0, 0);
    mac.init(block0, 0);
    header.init(javax.crypto.Cipher.DECRYPT_MODE, headerKey, new ChaCha20ParameterSpec(nonce, 0));
  }

  @Override
  public void updateAAD(byte[] data, int offset, int length) throws Exception {
    if (length != 4) {
      throw new IllegalArgumentException("only the 4-byte packet length is associated data");
    }
    if (mode == Mode.Decrypt) {
      mac.update(data, offset, length);
    }
    header.update(data, offset, length, data, offset);
    if (mode == Mode.Encrypt) {
      mac.update(data, offset, length);
    }
  }

  @Override
  public void update(byte[] input, int offset, int length) throws Exception {
    if (mode == Mode.Decrypt) {
      mac.update(input, offset, length);
      mac.finish(tag, 0);
      int diff = 0;
      for (int i = 0; i < 16; i++) {
        diff |= tag[i] ^ input[offset + length + i]; // constant time, no copy per packet
      }
      if (diff != 0) {
        throw new AEADBadTagException("Tag mismatch");
      }
    }
    body.update(input, offset, length, input, offset);
    if (mode == Mode.Encrypt) {
      mac.update(input, offset, length);
      mac.finish(input, offset + length);
    }
    seq++;
    startPacket();
  }

  private static final class Factory implements CipherFactory, SameAsMina {
    private static final boolean JDK_HAS_CHACHA20 = probe();

    private static boolean probe() {
      try {
        javax.crypto.Cipher.getInstance("ChaCha20");
        return true;
      } catch (Exception e) {
        return false;
      }
    }

    @Override
    public Cipher create() {
      if (!JDK_HAS_CHACHA20) {
        return INFO.create();
      }
      try {
        return new JdkChaCha20Poly1305();
      } catch (Exception e) {
        return INFO.create();
      }
    }

    @Override
    public String getName() {
      return INFO.getName();
    }

    @Override
    public boolean isSupported() {
      return true;
    }
  }
}

/** The algorithm's names and sizes, from MINA's engine for the same algorithm. */
interface SameAsMina extends CipherInformation {
  @Override
  default String getAlgorithm() {
    return JdkChaCha20Poly1305.INFO.getAlgorithm();
  }

  @Override
  default String getTransformation() {
    return JdkChaCha20Poly1305.INFO.getTransformation();
  }

  @Override
  default int getIVSize() {
    return JdkChaCha20Poly1305.INFO.getIVSize();
  }

  @Override
  default int getAuthenticationTagSize() {
    return JdkChaCha20Poly1305.INFO.getAuthenticationTagSize();
  }

  @Override
  default int getCipherBlockSize() {
    return JdkChaCha20Poly1305.INFO.getCipherBlockSize();
  }

  @Override
  default int getKdfSize() {
    return JdkChaCha20Poly1305.INFO.getKdfSize();
  }

  @Override
  default int getKeySize() {
    return JdkChaCha20Poly1305.INFO.getKeySize();
  }
}
