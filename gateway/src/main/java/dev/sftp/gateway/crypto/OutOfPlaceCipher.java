package dev.sftp.gateway.crypto;

import java.security.GeneralSecurityException;
import org.apache.sshd.common.NamedFactory;
import org.apache.sshd.common.cipher.BaseCipher;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;

/**
 * MINA's cipher for a stream mode (AES-CTR), except that each packet is transformed into a
 * scratch array and copied back. MINA transforms a packet in place, and the JDK's {@code
 * CipherCore} then first copies the whole input into a new array (in case output overwrites
 * input it has not read yet): an allocation of every packet's size, 32 KiB, per packet, in both
 * directions. The scratch array is the same copy without the allocation.
 */
public final class OutOfPlaceCipher extends BaseCipher {
  private byte[] scratch = new byte[0];

  private OutOfPlaceCipher(BuiltinCiphers b) {
    super(b.getIVSize(), b.getAuthenticationTagSize(), b.getKdfSize(), b.getAlgorithm(), b.getKeySize(),
        b.getTransformation(), b.getCipherBlockSize());
  }

  @Override
  public void update(byte[] input, int inputOffset, int inputLen) throws Exception {
    if (scratch.length < inputLen) {
      scratch = new byte[Math.max(inputLen, 36 * 1024)];
    }
    int n = getCipherInstance().update(input, inputOffset, inputLen, scratch, 0);
    if (n != inputLen) {
      throw new GeneralSecurityException("stream cipher gave " + n + " bytes for " + inputLen);
    }
    System.arraycopy(scratch, 0, input, inputOffset, n);
  }

  /** A factory under the built-in cipher's name (an AES-CTR one). */
  public static NamedFactory<Cipher> factory(BuiltinCiphers b) {
    return new NamedFactory<>() {
      @Override
      public Cipher create() {
        return new OutOfPlaceCipher(b);
      }

      @Override
      public String getName() {
        return b.getName();
      }
    };
  }
}
