package dev.sftp.gateway.crypto;

/**
 * Poly1305 (RFC 8439) with three 44/44/42-bit limbs and 64×64→128-bit products
 * ({@link Math#multiplyHigh}, an intrinsic), so a 16-byte block costs nine multiplications instead
 * of the twenty-five of a 26-bit-limb implementation. Streaming: {@link #update} any lengths,
 * then {@link #finish}.
 */
final class Poly1305 {
  private static final long M44 = (1L << 44) - 1;
  private static final long M42 = (1L << 42) - 1;

  private long r0;
  private long r1;
  private long r2;
  private long s1;
  private long s2;
  private long h0;
  private long h1;
  private long h2;
  private long pad0;
  private long pad1;
  private final byte[] partial = new byte[16];
  private int partialLen;

  /** Starts a message with the 32-byte one-time key at {@code key[off..off+32)}. */
  void init(byte[] key, int off) {
    long t0 = le64(key, off);
    long t1 = le64(key, off + 8);
    r0 = t0 & 0xffc0fffffffL;
    r1 = ((t0 >>> 44) | (t1 << 20)) & 0xfffffc0ffffL;
    r2 = (t1 >>> 24) & 0x00ffffffc0fL;
    s1 = r1 * (5 << 2);
    s2 = r2 * (5 << 2);
    h0 = 0;
    h1 = 0;
    h2 = 0;
    pad0 = le64(key, off + 16);
    pad1 = le64(key, off + 24);
    partialLen = 0;
  }

  void update(byte[] m, int off, int len) {
    if (partialLen > 0) {
      int take = Math.min(16 - partialLen, len);
      System.arraycopy(m, off, partial, partialLen, take);
      partialLen += take;
      off += take;
      len -= take;
      if (partialLen < 16) {
        return;
      }
      blocks(partial, 0, 16, 1L << 40);
      partialLen = 0;
    }
    int full = len & ~15;
    if (full > 0) {
      blocks(m, off, full, 1L << 40);
    }
    int rest = len - full;
    if (rest > 0) {
      System.arraycopy(m, off + full, partial, 0, rest);
      partialLen = rest;
    }
  }

  /** Writes the 16-byte tag at {@code out[off..off+16)}. */
  void finish(byte[] out, int off) {
    if (partialLen > 0) {
      partial[partialLen] = 1;
      for (int i = partialLen + 1; i < 16; i++) {
        partial[i] = 0;
      }
      blocks(partial, 0, 16, 0);
      partialLen = 0;
    }
    long c;
    c = h1 >>> 44; h1 &= M44;
    h2 += c; c = h2 >>> 42; h2 &= M42;
    h0 += c * 5; c = h0 >>> 44; h0 &= M44;
    h1 += c; c = h1 >>> 44; h1 &= M44;
    h2 += c; c = h2 >>> 42; h2 &= M42;
    h0 += c * 5; c = h0 >>> 44; h0 &= M44;
    h1 += c;

    // g = h + 5 - 2^130; keep h when g is negative (h < p).
    long g0 = h0 + 5;
    c = g0 >>> 44; g0 &= M44;
    long g1 = h1 + c;
    c = g1 >>> 44; g1 &= M44;
    long g2 = h2 + c - (1L << 42);
    long mask = (g2 >>> 63) - 1; // all ones when g2 >= 0
    g0 &= mask; g1 &= mask; g2 &= mask;
    mask = ~mask;
    h0 = (h0 & mask) | g0;
    h1 = (h1 & mask) | g1;
    h2 = (h2 & mask) | g2;

    h0 += pad0 & M44;
    c = h0 >>> 44; h0 &= M44;
    h1 += (((pad0 >>> 44) | (pad1 << 20)) & M44) + c;
    c = h1 >>> 44; h1 &= M44;
    h2 += ((pad1 >>> 24) & M42) + c;
    h2 &= M42;

    put64(h0 | (h1 << 44), out, off);
    put64((h1 >>> 20) | (h2 << 24), out, off + 8);
  }

  private void blocks(byte[] m, int off, int len, long hibit) {
    long a0 = h0;
    long a1 = h1;
    long a2 = h2;
    final long q0 = r0;
    final long q1 = r1;
    final long q2 = r2;
    final long t1s = s1;
    final long t2s = s2;
    for (int end = off + len; off < end; off += 16) {
      long t0 = le64(m, off);
      long t1 = le64(m, off + 8);
      a0 += t0 & M44;
      a1 += ((t0 >>> 44) | (t1 << 20)) & M44;
      a2 += ((t1 >>> 24) & M42) | hibit;

      // d0 = a0*q0 + a1*t2s + a2*t1s, and so on, as 128-bit (lo, hi) sums.
      long lo0 = a0 * q0;
      long hi0 = Math.multiplyHigh(a0, q0);
      long x = a1 * t2s;
      hi0 += Math.multiplyHigh(a1, t2s) + (Long.compareUnsigned(lo0 + x, lo0) < 0 ? 1 : 0);
      lo0 += x;
      x = a2 * t1s;
      hi0 += Math.multiplyHigh(a2, t1s) + (Long.compareUnsigned(lo0 + x, lo0) < 0 ? 1 : 0);
      lo0 += x;

      long lo1 = a0 * q1;
      long hi1 = Math.multiplyHigh(a0, q1);
      x = a1 * q0;
      hi1 += Math.multiplyHigh(a1, q0) + (Long.compareUnsigned(lo1 + x, lo1) < 0 ? 1 : 0);
      lo1 += x;
      x = a2 * t2s;
      hi1 += Math.multiplyHigh(a2, t2s) + (Long.compareUnsigned(lo1 + x, lo1) < 0 ? 1 : 0);
      lo1 += x;

      long lo2 = a0 * q2;
      long hi2 = Math.multiplyHigh(a0, q2);
      x = a1 * q1;
      hi2 += Math.multiplyHigh(a1, q1) + (Long.compareUnsigned(lo2 + x, lo2) < 0 ? 1 : 0);
      lo2 += x;
      x = a2 * q0;
      hi2 += Math.multiplyHigh(a2, q0) + (Long.compareUnsigned(lo2 + x, lo2) < 0 ? 1 : 0);
      lo2 += x;

      long c = (lo0 >>> 44) | (hi0 << 20);
      a0 = lo0 & M44;
      lo1 += c;
      if (Long.compareUnsigned(lo1, c) < 0) {
        hi1++;
      }
      c = (lo1 >>> 44) | (hi1 << 20);
      a1 = lo1 & M44;
      lo2 += c;
      if (Long.compareUnsigned(lo2, c) < 0) {
        hi2++;
      }
      c = (lo2 >>> 42) | (hi2 << 22);
      a2 = lo2 & M42;
      a0 += c * 5;
      c = a0 >>> 44;
      a0 &= M44;
      a1 += c;
    }
    h0 = a0;
    h1 = a1;
    h2 = a2;
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
