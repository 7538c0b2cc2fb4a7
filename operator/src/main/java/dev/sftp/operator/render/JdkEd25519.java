package dev.sftp.operator.render;

import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.Key;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Security;
import java.security.interfaces.EdECKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.EdECPublicKey;
import java.security.spec.KeySpec;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Optional;
import org.apache.sshd.common.config.keys.PrivateKeyEntryDecoder;
import org.apache.sshd.common.config.keys.PublicKeyEntryDecoder;
import org.apache.sshd.common.signature.Signature;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.security.AbstractSecurityProviderRegistrar;
import org.apache.sshd.common.util.security.SecurityUtils;
import org.apache.sshd.common.util.security.eddsa.generic.EdDSASupport;
import org.apache.sshd.common.util.security.eddsa.generic.EdDSAUtils;
import org.apache.sshd.common.util.security.eddsa.generic.GenericEd25519PublicKeyDecoder;
import org.apache.sshd.common.util.security.eddsa.generic.GenericOpenSSHEd25519PrivateKeyEntryDecoder;
import org.apache.sshd.common.util.security.eddsa.generic.GenericSignatureEd25519;

/**
 * ssh-ed25519 for MINA from the JDK's own Ed25519 (SunEC), so that the operator never registers
 * Bouncy Castle as a JCA provider.
 *
 * <p>Why: the operator uses MINA only to generate host keys and to read host key Secrets. MINA
 * offers ed25519 only through Bouncy Castle's provider (or net.i2p's), and instantiating
 * {@code BouncyCastleProvider} loads ~880 classes and its algorithm tables: ~5 MiB outside the
 * heap and ~4 MiB in it, for the life of the process (docs/benchmarks.md, "Less outside the
 * heap"). The gateway keeps Bouncy Castle; this class is the operator's only. Key files stay MINA's business:
 * the OpenSSH and PEM formats are read and written by MINA's generic ed25519 codecs; this class
 * only turns raw key bytes into JDK keys and back (through the X.509 and PKCS#8 encodings, as
 * MINA's {@link EdDSAUtils} does for any provider).
 */
public final class JdkEd25519 implements EdDSASupport<EdECPublicKey, EdECPrivateKey> {
  static final JdkEd25519 INSTANCE = new JdkEd25519();

  private JdkEd25519() {}

  /**
   * Makes MINA use {@link Registrar} (and no other registrar) unless the process was told
   * otherwise with {@code -Dorg.apache.sshd.security.registrars}. Must run before MINA's first
   * use of {@link SecurityUtils}, which reads the list once.
   */
  static void install() {
    if (System.getProperty(SecurityUtils.SECURITY_PROVIDER_REGISTRARS) == null) {
      System.setProperty(SecurityUtils.SECURITY_PROVIDER_REGISTRARS, Registrar.class.getName());
    }
  }

  /** The registrar MINA instantiates by name: the JDK's SunEC, offering only ed25519 support. */
  public static final class Registrar extends AbstractSecurityProviderRegistrar {
    public Registrar() {
      super("JdkEd25519");
    }

    @Override
    public String getProviderName() {
      return "SunEC";
    }

    @Override
    public boolean isNamedProviderUsed() {
      return false;
    }

    @Override
    public Provider getSecurityProvider() {
      return Security.getProvider(getProviderName());
    }

    @Override
    public boolean isSupported() {
      return getSecurityProvider() != null;
    }

    /** No JCA entity is routed through this registrar: MINA asks the JDK's defaults for them. */
    @Override
    public String getDefaultSecurityEntitySupportValue(Class<?> entityType) {
      return "";
    }

    @Override
    public Optional<EdDSASupport<?, ?>> getEdDSASupport() {
      return Optional.of(INSTANCE);
    }
  }

  @Override
  public PublicKeyEntryDecoder<EdECPublicKey, EdECPrivateKey> getEDDSAPublicKeyEntryDecoder() {
    return new GenericEd25519PublicKeyDecoder<>(EdECPublicKey.class, EdECPrivateKey.class, this);
  }

  @Override
  public PrivateKeyEntryDecoder<EdECPublicKey, EdECPrivateKey> getOpenSSHEDDSAPrivateKeyEntryDecoder() {
    return new GenericOpenSSHEd25519PrivateKeyEntryDecoder<>(EdECPublicKey.class, EdECPrivateKey.class, this);
  }

  @Override
  public Signature getEDDSASigner() {
    return new GenericSignatureEd25519(SecurityUtils.ED25519);
  }

  @Override
  public int getEDDSAKeySize(Key key) {
    return ed25519(key) ? KEY_SIZE : -1;
  }

  private static boolean ed25519(Key key) {
    return key instanceof EdECKey k && NamedParameterSpec.ED25519.getName().equalsIgnoreCase(k.getParams().getName());
  }

  @Override
  public Class<EdECPublicKey> getEDDSAPublicKeyType() {
    return EdECPublicKey.class;
  }

  @Override
  public Class<EdECPrivateKey> getEDDSAPrivateKeyType() {
    return EdECPrivateKey.class;
  }

  @Override
  public boolean compareEDDSAPPublicKeys(PublicKey k1, PublicKey k2) {
    return ed25519(k1) && ed25519(k2) && Arrays.equals(k1.getEncoded(), k2.getEncoded());
  }

  @Override
  public boolean compareEDDSAPrivateKeys(PrivateKey k1, PrivateKey k2) {
    return ed25519(k1) && ed25519(k2) && java.security.MessageDigest.isEqual(k1.getEncoded(), k2.getEncoded());
  }

  /**
   * The public key of a private key. The JDK derives it only while generating a pair, from the
   * 32 random bytes it draws; giving it the private key's seed as those bytes yields the same
   * pair. {@code JdkEd25519Test} checks the result against OpenSSH's {@code ssh-keygen -y}.
   */
  @Override
  public EdECPublicKey recoverEDDSAPublicKey(PrivateKey key) throws GeneralSecurityException {
    if (!ed25519(key) || ((EdECPrivateKey) key).getBytes().isEmpty()) {
      throw new InvalidKeyException("not an ed25519 private key with its seed");
    }
    byte[] seed = ((EdECPrivateKey) key).getBytes().get();
    KeyPairGenerator kpg = KeyPairGenerator.getInstance(SecurityUtils.ED25519);
    kpg.initialize(NamedParameterSpec.ED25519, new SecureRandom() {
      @Override
      public void nextBytes(byte[] bytes) {
        if (bytes.length != seed.length) {
          throw new IllegalStateException("the JDK asked for " + bytes.length + " random bytes for an ed25519 key, not " + seed.length);
        }
        System.arraycopy(seed, 0, bytes, 0, seed.length);
      }
    });
    try {
      return (EdECPublicKey) kpg.generateKeyPair().getPublic();
    } finally {
      Arrays.fill(seed, (byte) 0);
    }
  }

  @Override
  public EdECPublicKey generateEDDSAPublicKey(byte[] keyData) throws GeneralSecurityException {
    return (EdECPublicKey) SecurityUtils.getKeyFactory(getKeyFactoryAlgorithm()).generatePublic(EdDSAUtils.createPublicKeySpec(keyData));
  }

  @Override
  public EdECPrivateKey generateEDDSAPrivateKey(byte[] seed) throws GeneralSecurityException, IOException {
    return (EdECPrivateKey) SecurityUtils.getKeyFactory(getKeyFactoryAlgorithm()).generatePrivate(EdDSAUtils.createPrivateKeySpec(seed));
  }

  @Override
  public <B extends Buffer> B putRawEDDSAPublicKey(B buffer, PublicKey key) {
    if (!ed25519(key)) {
      throw new IllegalArgumentException("not an ed25519 public key: " + key);
    }
    buffer.putBytes(getPublicKeyData((EdECPublicKey) key));
    return buffer;
  }

  /** Not used by MINA's own code paths (its Bouncy Castle support does not offer it either). */
  @Override
  public <B extends Buffer> B putEDDSAKeyPair(B buffer, PublicKey pubKey, PrivateKey prvKey) {
    throw new UnsupportedOperationException("writing an ed25519 key pair into a buffer is not supported");
  }

  @Override
  public KeySpec createPublicKeySpec(EdECPublicKey publicKey) {
    return new X509EncodedKeySpec(publicKey.getEncoded());
  }

  @Override
  public KeySpec createPrivateKeySpec(EdECPrivateKey privateKey) {
    return new PKCS8EncodedKeySpec(privateKey.getEncoded());
  }

  @Override
  public byte[] getPublicKeyData(EdECPublicKey publicKey) {
    try {
      return publicKey == null ? null : EdDSAUtils.getBytes(publicKey);
    } catch (InvalidKeyException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  @Override
  public byte[] getPrivateKeyData(EdECPrivateKey privateKey) throws IOException {
    try {
      return EdDSAUtils.getBytes(privateKey);
    } catch (InvalidKeyException e) {
      throw new IOException(e.getMessage(), e);
    }
  }

  @Override
  public String getKeyFactoryAlgorithm() {
    return SecurityUtils.ED25519;
  }
}
