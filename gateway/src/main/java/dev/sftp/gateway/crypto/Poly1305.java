package dev.sftp.gateway.crypto;

/**
 * Poly1305 (RFC 8439) in radix 2^64: the accumulator is two 64-bit limbs plus a few bits above
 * 2^128, and r's clamping (r1 a multiple of 4) folds the 2^128 overflow into {@code s1 = 5 r1 / 4},
 * so a 16-byte block costs four 64×64→128-bit products ({@link Math#multiplyHigh}, an intrinsic)
 * and two small ones. Streaming: {@link #update} any lengths, then {@link #finish}.
 */
final class Poly1305 implements OneTimeMac {
  private long r0;
  private long r1;
  private long s1;
  private long h0;
  private long h1;
  private long h2;
  private long pad0;
  private long pad1;
  private final byte[] partial = new byte[16];
  private int partialLen;

  @Override
  public void init(byte[] key, int off) {
    r0 = le64(key, off) & 0x0ffffffc0fffffffL;
    r1 = le64(key, off + 8) & 0x0ffffffc0ffffffcL;
    s1 = r1 + (r1 >>> 2);
    h0 = 0;
    h1 = 0;
    h2 = 0;
    pad0 = le64(key, off + 16);
    pad1 = le64(key, off + 24);
    partialLen = 0;
  }

  @Override
  public void update(byte[] m, int off, int len) {
    if (partialLen > 0) {
      int take = Math.min(16 - partialLen, len);
      System.arraycopy(m, off, partial, partialLen, take);
      partialLen += take;
      off += take;
      len -= take;
      if (partialLen < 16) {
        return;
      }
      blocks(partial, 0, 16, 1);
      partialLen = 0;
    }
    int full = len & ~15;
    if (full > 0) {
      blocks(m, off, full, 1);
    }
    int rest = len - full;
    if (rest > 0) {
      System.arraycopy(m, off + full, partial, 0, rest);
      partialLen = rest;
    }
  }

  /** Writes the 16-byte tag at {@code out[off..off+16)}. */
  @Override
  public void finish(byte[] out, int off) {
    if (partialLen > 0) {
      partial[partialLen] = 1;
      for (int i = partialLen + 1; i < 16; i++) {
        partial[i] = 0;
      }
      blocks(partial, 0, 16, 0);
      partialLen = 0;
    }
    // Carry h fully (h < 2^130 + small), then h mod p: h + 5 reaches 2^130 exactly when h >= p,
    // and then the low 128 bits of h + 5 are those of h - p.
    long a0 = h0;
    long a1 = h1;
    long a2 = h2;
    long c = (a2 >>> 2) * 5;
    a2 &= 3;
    a0 += c;
    c = carry(a0, c);
    a1 += c;
    a2 += carry(a1, c);
    long g0 = a0 + 5;
    c = carry(g0, 5);
    long g1 = a1 + c;
    long g2 = a2 + carry(g1, c);
    long mask = -(g2 >>> 2);
    a0 = (a0 & ~mask) | (g0 & mask);
    a1 = (a1 & ~mask) | (g1 & mask);
    // Tag = (h + s) mod 2^128.
    a0 += pad0;
    a1 += pad1 + carry(a0, pad0);
    put64(a0, out, off);
    put64(a1, out, off + 8);
  }

  /**
   * Whole 16-byte blocks; {@code hibit} is 1 for message blocks and 0 for the padded last one.
   * Bounds: h2 stays below 8 and r0, r1 below 2^60, so every 128-bit column sum fits and
   * h2 * s1 fits in 64 unsigned bits.
   */
  private void blocks(byte[] m, int off, int len, long hibit) {
    long a0 = h0;
    long a1 = h1;
    long a2 = h2;
    final long q0 = r0;
    final long q1 = r1;
    final long t1 = s1;
    for (int end = off + len; off < end; off += 16) {
      long m0 = le64(m, off);
      long m1 = le64(m, off + 8);
      a0 += m0;
      long c = carry(a0, m0);
      long t = a1 + m1;
      long c1 = carry(t, m1);
      a1 = t + c;
      a2 += c1 + carry(a1, c) + hibit;

      // d0 = a0 q0 + a1 s1, d1 = a0 q1 + a1 q0 + a2 s1, d2 = a2 q0, with a0 and a1 unsigned:
      // multiplyHigh is signed, so add the other factor when the top bit is set.
      long sa0 = a0 >> 63;
      long sa1 = a1 >> 63;
      long d0 = a0 * q0;
      long d0h = Math.multiplyHigh(a0, q0) + (sa0 & q0);
      long x = a1 * t1;
      d0h += Math.multiplyHigh(a1, t1) + (sa1 & t1);
      d0 += x;
      d0h += carry(d0, x);

      long d1 = a0 * q1;
      long d1h = Math.multiplyHigh(a0, q1) + (sa0 & q1);
      x = a1 * q0;
      d1h += Math.multiplyHigh(a1, q0) + (sa1 & q0);
      d1 += x;
      d1h += carry(d1, x);
      x = a2 * t1;
      d1 += x;
      d1h += carry(d1, x);
      d1 += d0h;
      d1h += carry(d1, d0h);

      long d2 = a2 * q0 + d1h;
      // Partial reduction: what lies at 2^130 and above comes back times 5 (2^130 = 5 mod p).
      c = (d2 & ~3L) + (d2 >>> 2);
      a2 = d2 & 3;
      a0 = d0 + c;
      c = carry(a0, c);
      a1 = d1 + c;
      a2 += carry(a1, c);
    }
    h0 = a0;
    h1 = a1;
    h2 = a2;
  }

  /** 1 when the unsigned addition that gave {@code sum} from {@code addend} wrapped around. */
  private static long carry(long sum, long addend) {
    return Long.compareUnsigned(sum, addend) < 0 ? 1 : 0;
  }

  private static final java.lang.invoke.VarHandle LE64 =
      java.lang.invoke.MethodHandles.byteArrayViewVarHandle(long[].class, java.nio.ByteOrder.LITTLE_ENDIAN);

  static long le64(byte[] b, int off) {
    return (long) LE64.get(b, off);
  }

  static void put64(long v, byte[] b, int off) {
    LE64.set(b, off, v);
  }
}
