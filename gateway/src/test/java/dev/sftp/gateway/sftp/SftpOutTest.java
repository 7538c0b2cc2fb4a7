package dev.sftp.gateway.sftp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.sshd.common.PropertyResolverUtils;
import org.apache.sshd.common.channel.IoWriteFutureImpl;
import org.apache.sshd.common.io.IoOutputStream;
import org.apache.sshd.common.io.IoWriteFuture;
import org.apache.sshd.common.util.buffer.Buffer;
import org.apache.sshd.common.util.buffer.ByteArrayBuffer;
import org.apache.sshd.common.util.closeable.AbstractCloseable;
import org.apache.sshd.core.CoreModuleProperties;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SFTP thread's output: a writer that waits for space is woken at half the limit. */
class SftpOutTest {
  static final int LIMIT = 4000;
  static final int SLICE = 1000;

  /** The channel's stream: a write finishes when the test says so. */
  static final class ManualOut extends AbstractCloseable implements IoOutputStream {
    final BlockingQueue<IoWriteFutureImpl> writes = new LinkedBlockingQueue<>();

    @Override
    public IoWriteFuture writeBuffer(Buffer buffer) {
      IoWriteFutureImpl f = new IoWriteFutureImpl("test", buffer);
      writes.add(f);
      return f;
    }

    void finishNext(Object result) throws InterruptedException {
      IoWriteFutureImpl f = writes.poll(10, TimeUnit.SECONDS);
      assertThat(f).as("a write in flight").isNotNull();
      f.setValue(result);
    }
  }

  ManualOut channel;
  SftpOut out;
  final PendingRequests budget = new PendingRequests(1 << 20, 1 << 20);
  final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
  final AtomicInteger written = new AtomicInteger();
  final AtomicReference<Throwable> failed = new AtomicReference<>();
  Thread writer;

  @BeforeEach
  void start() {
    channel = new ManualOut();
    out = new SftpOut(1, channel, PropertyResolverUtils.toPropertyResolver(Map.of(
        CoreModuleProperties.BUFFERED_IO_OUTPUT_MAX_PENDING_WRITE_SIZE.getName(), String.valueOf(LIMIT),
        CoreModuleProperties.BUFFERED_IO_OUTPUT_MAX_PENDING_WRITE_WAIT.getName(), "200")), closing::get, () -> false, budget);
    writer = new Thread(() -> {
      try {
        for (int i = 0; i < 12; i++) {
          out.writeBuffer(new ByteArrayBuffer(new byte[SLICE]));
          written.incrementAndGet();
        }
      } catch (Throwable e) {
        failed.set(e);
      }
    }, "sftp-writer");
    writer.start();
  }

  @AfterEach
  void stop() throws InterruptedException {
    writer.interrupt();
    writer.join(10_000);
  }

  void awaitWriterWaitingAt(int n) {
    await().atMost(Duration.ofSeconds(10)).until(() -> written.get() == n && writer.getState() == Thread.State.TIMED_WAITING);
  }

  @Test
  void aWaitingWriterSleepsUntilHalfTheLimitIsFree() throws Exception {
    awaitWriterWaitingAt(LIMIT / SLICE); // four slices fill the limit; the fifth waits
    assertThat(out.pending()).isEqualTo(LIMIT);

    channel.finishNext(Boolean.TRUE); // 3,000 pending: room for a slice, but above half
    Thread.sleep(300);
    assertThat(written).as("MINA's stream would have let the writer in here").hasValue(4);
    assertThat(out.pending()).isEqualTo(LIMIT - SLICE);

    channel.finishNext(Boolean.TRUE); // 2,000 pending: half the limit, the writer is woken
    awaitWriterWaitingAt(6); // and writes two slices in one go before it waits again
    assertThat(out.pending()).isEqualTo(LIMIT);

    for (int i = 0; i < 2; i++) {
      channel.finishNext(Boolean.TRUE);
    }
    awaitWriterWaitingAt(8);
    assertThat(failed).hasValue(null);
    assertThat(budget.replies()).as("replies counted server-wide: those not yet written, and the one waiting to be added")
        .isEqualTo(out.pending() + SLICE);
    out.releaseAll();
    assertThat(budget.replies()).isZero();
  }

  @Test
  void aFailedWriteWakesTheWaitingWriterWithTheError() throws Exception {
    awaitWriterWaitingAt(LIMIT / SLICE);
    channel.finishNext(new IOException("connection reset")); // 3,000 still pending: above half
    await().atMost(Duration.ofSeconds(10)).until(() -> failed.get() != null);
    assertThat(failed.get()).isInstanceOf(IOException.class).hasStackTraceContaining("connection reset");
    assertThat(written).hasValue(4);
  }

  @Test
  void aClientThatStopsReadingIsWaitedForUntilTheChannelCloses() throws Exception {
    awaitWriterWaitingAt(LIMIT / SLICE);
    Thread.sleep(1_500); // MINA's stream, told to wait 200 ms, would have failed the writer by now
    assertThat(failed).hasValue(null);
    assertThat(writer.getState()).isEqualTo(Thread.State.TIMED_WAITING);
    closing.set(true);
    await().atMost(Duration.ofSeconds(10)).until(() -> failed.get() != null);
    assertThat(failed.get()).hasMessageContaining("Channel closed");
    assertThat(written).hasValue(4);
  }
}
