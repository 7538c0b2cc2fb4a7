package dev.sftp.gateway.crypto;

import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.security.Key;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import javax.crypto.spec.SecretKeySpec;

/**
 * SunJCE's Poly1305 ({@code com.sun.crypto.provider.Poly1305}, the engine of the JDK's
 * ChaCha20-Poly1305 AEAD), whose block loop HotSpot replaces with an AVX-512 IFMA intrinsic. The
 * class is not exported: it is reached through a private lookup, which needs {@code --add-opens
 * java.base/com.sun.crypto.provider=ALL-UNNAMED} (the image's ENTRYPOINT, run-local and bench/run
 * pass it; Quarkus writes its own Add-Opens into the jar's manifest). Checked
 * against our engine when first loaded; {@link #REACHABLE} is false if anything differs or fails.
 */
final class JdkPoly1305 implements OneTimeMac {
  private static final MethodHandle NEW;
  private static final MethodHandle INIT;
  private static final MethodHandle UPDATE;
  private static final MethodHandle FINISH;
  /** Whether the JDK's engine can be used here (reached, and gives our engine's tags). */
  static final boolean REACHABLE;
  /** Why not, when {@link #REACHABLE} is false. */
  static final String WHY_NOT;

  static {
    MethodHandle n = null;
    MethodHandle i = null;
    MethodHandle u = null;
    MethodHandle f = null;
    String why = null;
    try {
      Class<?> c = Class.forName("com.sun.crypto.provider.Poly1305");
      MethodHandles.Lookup l = MethodHandles.privateLookupIn(c, MethodHandles.lookup());
      try {
        // false: no weak-key check (JDK 21+), as for any one-time key the construction derives.
        n = MethodHandles.insertArguments(l.findConstructor(c, MethodType.methodType(void.class, boolean.class)), 0, false)
            .asType(MethodType.methodType(Object.class));
      } catch (NoSuchMethodException e) {
        n = l.findConstructor(c, MethodType.methodType(void.class)).asType(MethodType.methodType(Object.class));
      }
      i = l.findVirtual(c, "engineInit", MethodType.methodType(void.class, Key.class, AlgorithmParameterSpec.class))
          .asType(MethodType.methodType(void.class, Object.class, Key.class, AlgorithmParameterSpec.class));
      u = l.findVirtual(c, "engineUpdate", MethodType.methodType(void.class, byte[].class, int.class, int.class))
          .asType(MethodType.methodType(void.class, Object.class, byte[].class, int.class, int.class));
      f = l.findVirtual(c, "engineDoFinal", MethodType.methodType(byte[].class))
          .asType(MethodType.methodType(byte[].class, Object.class));
    } catch (ReflectiveOperationException | RuntimeException e) {
      why = e.toString();
    }
    NEW = n;
    INIT = i;
    UPDATE = u;
    FINISH = f;
    if (why == null) {
      why = selfTest();
    }
    WHY_NOT = why;
    REACHABLE = why == null;
  }

  /** One tag from both engines over lengths around the block size: null when all agree. */
  private static String selfTest() {
    try {
      byte[] key = new byte[32];
      byte[] msg = new byte[1000];
      for (int k = 0; k < msg.length; k++) {
        msg[k] = (byte) (k * 31 + 7);
      }
      for (int len : new int[] {0, 1, 15, 16, 17, 255, 256, 257, 1000}) {
        Arrays.fill(key, (byte) (len + 1));
        byte[] ours = new byte[16];
        byte[] theirs = new byte[16];
        Poly1305 p = new Poly1305();
        p.init(key, 0);
        p.update(msg, 0, len);
        p.finish(ours, 0);
        JdkPoly1305 j = new JdkPoly1305();
        j.init(key, 0);
        j.update(msg, 0, len);
        j.finish(theirs, 0);
        if (!Arrays.equals(ours, theirs)) {
          return "the JDK's Poly1305 gave another tag for " + len + " bytes";
        }
      }
      return null;
    } catch (RuntimeException | Error e) {
      return e.toString();
    }
  }

  private final Object engine;

  JdkPoly1305() {
    try {
      engine = (Object) NEW.invokeExact();
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public void init(byte[] key, int off) {
    try {
      INIT.invokeExact(engine, (Key) new SecretKeySpec(key, off, 32, "Poly1305"), (AlgorithmParameterSpec) null);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public void update(byte[] m, int off, int len) {
    if (len == 0) {
      return;
    }
    try {
      UPDATE.invokeExact(engine, m, off, len);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  @Override
  public void finish(byte[] out, int off) {
    try {
      byte[] tag = (byte[]) FINISH.invokeExact(engine);
      System.arraycopy(tag, 0, out, off, 16);
    } catch (Throwable t) {
      throw rethrow(t);
    }
  }

  private static RuntimeException rethrow(Throwable t) {
    if (t instanceof RuntimeException r) {
      return r;
    }
    if (t instanceof Error e) {
      throw e;
    }
    return new IllegalStateException(t);
  }
}
