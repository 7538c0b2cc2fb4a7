package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;

/** Which SSH algorithms the gateway offers. SHA-1 {@code ssh-rsa} and DSA signatures are never offered. */
public enum AlgorithmProfile {
  /** AEAD and encrypt-then-MAC ciphers, curve25519/ML-KEM/ECDH and SHA-2 DH key exchange only. */
  MODERN("Modern"),
  /** Adds CBC-free legacy choices that old clients need: SHA-1 MACs and diffie-hellman-group14-sha1. */
  COMPATIBLE("Compatible");

  private final String wire;

  AlgorithmProfile(String wire) {
    this.wire = wire;
  }

  @JsonValue
  public String wireName() {
    return wire;
  }

  @JsonCreator
  public static AlgorithmProfile fromWire(String value) {
    for (AlgorithmProfile p : values()) {
      if (p.wire.equals(value)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown algorithmProfile '" + value + "' (expected Modern or Compatible)");
  }
}
