package dev.sftp.contract;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PasswordHashesTest {
  // Made by the reference implementations (python3-argon2, python3-bcrypt), not by this code.
  static final String ARGON2_REF = "$argon2id$v=19$m=19456,t=2,p=1$qn2PY35Ps8ATGzlE7Tdxqg$p09cfCQOR2z/cUnKOm8BNQ";
  /** At the cost of new hashes (m=7168, t=5, p=1). */
  static final String ARGON2_REF_DEFAULT = "$argon2id$v=19$m=7168,t=5,p=1$wpOpVFmL5l0D6bnmEE1DCQ$ev3b12/AfUUUjvQzeKJR/A";
  static final String ARGON2_REF_UNICODE = "$argon2id$v=19$m=65536,t=3,p=4$pNBdzYdleeBM5SUALrXsBQ$W9c9MfZ05P3/TdqtN1A9ew";
  static final String BCRYPT_2B = "$2b$10$OvtvFv6tR3o1eBsoC6lzleCHunfHQY6ZnEM1UXZ4WuBJDwfbdpw8e";
  static final String BCRYPT_2Y = "$2y$08$3j8CFVT60nXmHmstdmsT.OzZXTIEfwPgn3lxvAV.TyBLKKob8WQcW";

  @Test
  void verifiesHashesMadeByTheReferenceImplementations() {
    assertThat(PasswordHashes.verify(ARGON2_REF, "correct horse battery staple")).isTrue();
    assertThat(PasswordHashes.verify(ARGON2_REF, "correct horse battery stapl")).isFalse();
    assertThat(PasswordHashes.verify(ARGON2_REF_DEFAULT, "correct horse battery staple")).isTrue();
    assertThat(PasswordHashes.verify(ARGON2_REF_DEFAULT, "correct horse battery stapl")).isFalse();
    assertThat(PasswordHashes.isDefaultArgon2id(ARGON2_REF_DEFAULT)).isTrue();
    assertThat(PasswordHashes.verify(ARGON2_REF_UNICODE, "pässwörd ünïcode")).isTrue();
    assertThat(PasswordHashes.verify(BCRYPT_2B, "correct horse battery staple")).isTrue();
    assertThat(PasswordHashes.verify(BCRYPT_2B, "Correct horse battery staple")).isFalse();
    assertThat(PasswordHashes.verify(BCRYPT_2Y, "s3cret")).isTrue();
  }

  @Test
  void hashesItMakesVerifyAndAreSalted() {
    String a = PasswordHashes.hashArgon2id("pw");
    String b = PasswordHashes.hashArgon2id("pw");
    assertThat(a).startsWith("$argon2id$v=19$m=7168,t=5,p=1$").isNotEqualTo(b);
    assertThat(PasswordHashes.verify(a, "pw")).isTrue();
    assertThat(PasswordHashes.verify(a, "pW")).isFalse();
    String y = PasswordHashes.hashBcrypt("pw", 6);
    assertThat(y).startsWith("$2y$06$");
    assertThat(PasswordHashes.verify(y, "pw")).isTrue();
  }

  @Test
  void explainsWhatIsWrongWithoutEchoingTheValue() {
    assertThat(PasswordHashes.problem(ARGON2_REF)).isNull();
    assertThat(PasswordHashes.problem(BCRYPT_2Y)).isNull();
    assertThat(PasswordHashes.problem("hunter2")).contains("never a plain password").doesNotContain("hunter2");
    assertThat(PasswordHashes.problem("$argon2id$v=19$m=99999999,t=2,p=1$qn2PY35Ps8ATGzlE7Tdxqg$p09cfCQOR2z/cUnKOm8BNQ")).contains("out of range");
    assertThat(PasswordHashes.problem("$2y$10$short")).contains("bcrypt");
    assertThat(PasswordHashes.verify("hunter2", "hunter2")).isFalse();
    assertThat(PasswordHashes.verify("$argon2id$garbage", "x")).isFalse();
  }

  @Test
  void onlyHashesOfTheDefaultCostCountAsDefault() {
    assertThat(PasswordHashes.isDefaultArgon2id(PasswordHashes.hashArgon2id("x"))).isTrue();
    // The cost earlier versions made (python3-argon2's 19 MiB, 2 passes): still the operator's own.
    assertThat(PasswordHashes.isDefaultArgon2id(ARGON2_REF)).isTrue();
    assertThat(PasswordHashes.isDefaultArgon2id("$argon2id$v=19$m=7168,t=2,p=1$qn2PY35Ps8ATGzlE7Tdxqg$p09cfCQOR2z/cUnKOm8BNQ")).isFalse();
    assertThat(PasswordHashes.isDefaultArgon2id("$argon2id$v=19$m=1048576,t=64,p=1$c2FsdHNhbHRzYWx0c2FsdA$Vq3LhLn9o+e1cFuzpt5YW9qsGI3kZhbqTLJIf0FCMqA")).isFalse();
    assertThat(PasswordHashes.isDefaultArgon2id(PasswordHashes.hashBcrypt("x", 4))).isFalse();
    assertThat(PasswordHashes.isDefaultArgon2id("$argon2id$garbage")).isFalse();
  }
}
