package dev.sftp.gateway.fs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuotasTest {
  @TempDir Path tmp;

  @Test
  void aHomeIsCountedOnTheCountingThreadWithoutFollowingLinks() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home/sub"));
    Files.write(tmp.resolve("home/a"), new byte[100]);
    Files.write(home.resolve("b"), new byte[50]);
    Files.createSymbolicLink(tmp.resolve("home/out"), Files.write(tmp.resolve("outside"), new byte[1_000_000]));
    Quotas q = new Quotas();
    try {
      assertThat(q.known(tmp.resolve("home"))).as("nothing counted before a login or a write").isNull();
      q.prepare(tmp.resolve("home"));
      Quotas.Usage u = q.usage(tmp.resolve("home"));
      // a, sub/b and the link (a file, of no size here): the million bytes it points to do not count.
      assertThat(u.files()).isEqualTo(3);
      assertThat(u.bytes()).isEqualTo(150);
      assertThat(q.known(tmp.resolve("home"))).isSameAs(u);
      assertThat(u.takeBytes(850, 1000L)).isTrue();
      assertThat(u.takeBytes(1, 1000L)).isFalse();
      assertThat(u.takeFile(3L)).isFalse();
      assertThat(u.takeFile(4L)).isTrue();
    } finally {
      q.close();
    }
  }
}
