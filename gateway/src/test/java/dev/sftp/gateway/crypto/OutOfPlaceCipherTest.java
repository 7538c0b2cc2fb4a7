package dev.sftp.gateway.crypto;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Random;
import org.apache.sshd.common.cipher.BuiltinCiphers;
import org.apache.sshd.common.cipher.Cipher;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The out-of-place AES-CTR gives MINA's bytes, packet after packet, both ways. */
class OutOfPlaceCipherTest {
  @ParameterizedTest
  @EnumSource(value = BuiltinCiphers.class, names = {"aes128ctr", "aes192ctr", "aes256ctr"})
  void sameStreamAsMinasInPlaceCipher(BuiltinCiphers b) throws Exception {
    Random rnd = new Random(b.ordinal());
    byte[] key = new byte[64]; // longer than needed, as the key exchange gives
    byte[] iv = new byte[32];
    rnd.nextBytes(key);
    rnd.nextBytes(iv);
    Cipher mina = b.create();
    Cipher mine = OutOfPlaceCipher.factory(b).create();
    Cipher opener = OutOfPlaceCipher.factory(b).create();
    assertThat(mine).isInstanceOf(OutOfPlaceCipher.class);
    assertThat(OutOfPlaceCipher.factory(b).getName()).isEqualTo(b.getName());
    mina.init(Cipher.Mode.Encrypt, key, iv);
    mine.init(Cipher.Mode.Encrypt, key, iv);
    opener.init(Cipher.Mode.Decrypt, key, iv);
    for (int i = 0; i < 60; i++) {
      int len = 16 * (1 + rnd.nextInt(i % 4 == 0 ? 4096 : 40)); // packets up to 64 KiB
      byte[] plain = new byte[len + 9];
      rnd.nextBytes(plain);
      byte[] a = plain.clone();
      byte[] c = plain.clone();
      mina.update(a, 5, len);
      mine.update(c, 5, len);
      assertThat(c).as("packet %d", i).isEqualTo(a);
      assertThat(Arrays.copyOfRange(c, len + 5, len + 9)).isEqualTo(Arrays.copyOfRange(plain, len + 5, len + 9));
      opener.update(c, 5, len);
      assertThat(c).as("packet %d opened", i).isEqualTo(plain);
    }
  }
}
