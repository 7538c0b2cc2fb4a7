package dev.sftp.operator.reconciler;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** When the operator compacts its heap: once idle after work, never while busy, not twice. */
class IdleCompactionTest {
  @Test
  void compactsOnceWhenIdleAfterWork() {
    // The first look only records the count.
    assertThat(IdleCompaction.due(-1, 10, 0)).isFalse();
    // Collections since the last look: busy.
    assertThat(IdleCompaction.due(10, 14, 0)).isFalse();
    // None since the last look, some since the last compaction: idle after work.
    assertThat(IdleCompaction.due(14, 14, 0)).isTrue();
    // The compaction itself is the last collection: idle with nothing new, nothing to do.
    assertThat(IdleCompaction.due(15, 15, 15)).isFalse();
  }
}
