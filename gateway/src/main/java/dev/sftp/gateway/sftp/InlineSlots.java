package dev.sftp.gateway.sftp;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * How many I/O threads may run SFTP requests inline at once, over every channel of the server:
 * all of them but one, so that one is always free for the network (docs/benchmarks.md, "2,000 x
 * 4 KiB" lines, where inline requests pay off).
 */
final class InlineSlots {
  private final int max;
  private final AtomicInteger used = new AtomicInteger();

  InlineSlots(int max) {
    this.max = max;
  }

  boolean tryAcquire() {
    int n;
    do {
      n = used.get();
      if (n >= max) {
        return false;
      }
    } while (!used.compareAndSet(n, n + 1));
    return true;
  }

  void release() {
    used.decrementAndGet();
  }
}
