package dev.sftp.operator.reconciler;

import com.sun.management.HotSpotDiagnosticMXBean;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Hands the heap a burst of work grew back to the system once the operator is idle again. The
 * chart runs the serial collector (the least memory of its own), which gives heap back only at a
 * full collection, and none happens at rest: after a bulk import of 10,000 users the heap stayed
 * at its maximum, twice what it held (docs/benchmarks.md). So when no collection has run for a
 * whole period (nothing is being reconciled) but some ran since the last compaction (there was
 * work), one full collection runs, with {@code MaxHeapFreeRatio} lowered to {@value #TIGHT}% for
 * it (a manageable flag; restored right after, so that work keeps the room the chart's options
 * give it). With {@code -XX:-ShrinkHeapInSteps} (the chart's options) the heap shrinks to that at
 * once. G1's {@code G1PeriodicGCInterval} does the like for G1. About 0.3 s of one core per
 * burst of work at 10,000 users; {@code sftp.operator.idle-compaction=0s} turns it off.
 */
@ApplicationScoped
public class IdleCompaction {
  private static final Logger LOG = Logger.getLogger(IdleCompaction.class);
  private final Duration period;
  private ScheduledExecutorService timer;
  private long seen = -1;
  private long atLastCompaction;

  public IdleCompaction(@ConfigProperty(name = "sftp.operator.idle-compaction", defaultValue = "30s") Duration period) {
    this.period = period;
  }

  void start(@Observes StartupEvent e) {
    if (period.isZero() || period.isNegative()) {
      return;
    }
    atLastCompaction = collections();
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "idle-compaction");
      t.setDaemon(true);
      return t;
    });
    timer.scheduleWithFixedDelay(this::check, period.toMillis(), period.toMillis(), TimeUnit.MILLISECONDS);
  }

  void stop(@Observes ShutdownEvent e) {
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  private void check() {
    long now = collections();
    if (due(seen, now, atLastCompaction)) {
      long before = Runtime.getRuntime().totalMemory();
      compact();
      atLastCompaction = collections();
      now = atLastCompaction;
      LOG.debugf("idle: heap compacted from %d to %d MiB", before >> 20, Runtime.getRuntime().totalMemory() >> 20);
    }
    seen = now;
  }

  /** The free share of the heap a compaction leaves, in percent. */
  static final int TIGHT = 10;

  /** A full collection that leaves at most {@link #TIGHT}% of the heap free. */
  private static void compact() {
    HotSpotDiagnosticMXBean hs = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
    String min = null;
    String max = null;
    try {
      min = hs.getVMOption("MinHeapFreeRatio").getValue();
      max = hs.getVMOption("MaxHeapFreeRatio").getValue();
      // Min may not pass Max: lower Min first, and raise it last.
      if (Integer.parseInt(min) > TIGHT) {
        hs.setVMOption("MinHeapFreeRatio", String.valueOf(TIGHT));
      }
      hs.setVMOption("MaxHeapFreeRatio", String.valueOf(TIGHT));
    } catch (RuntimeException e) {
      LOG.debugf("idle: heap free ratios not adjustable (%s)", e.getMessage());
    }
    try {
      System.gc();
    } finally {
      try {
        if (max != null) {
          hs.setVMOption("MaxHeapFreeRatio", max);
        }
        if (min != null) {
          hs.setVMOption("MinHeapFreeRatio", min);
        }
      } catch (RuntimeException e) {
        LOG.warnf("idle: could not restore the heap free ratios %s/%s: %s", min, max, e.getMessage());
      }
    }
  }

  /**
   * Whether to compact now: no collection since the last look ({@code seen}, -1 before the
   * first), but some since the last compaction.
   */
  static boolean due(long seen, long now, long atLastCompaction) {
    return seen >= 0 && now == seen && now != atLastCompaction;
  }

  /** Collections of any kind so far, in this JVM. */
  private static long collections() {
    long n = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      n += Math.max(0, gc.getCollectionCount());
    }
    return n;
  }
}
