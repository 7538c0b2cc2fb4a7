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

  /**
   * A recount walks the home while its sessions go on writing: what they add meanwhile is kept on
   * top of what the walk found (the walk may have passed the file already), what they remove is not
   * taken off, so a recount can leave the count too high until the next one, never too low.
   */
  @Test
  void whatIsAddedDuringARecountIsKeptAndWhatIsRemovedIsNotTakenOff() throws Exception {
    Path home = Files.createDirectories(tmp.resolve("home"));
    Quotas q = new Quotas();
    try {
      q.prepare(home);
      Quotas.Usage u = q.usage(home);
      u.beginCount();
      assertThat(u.takeBytes(500, null)).isTrue();
      assertThat(u.takeFile(null)).isTrue();
      u.addBytes(20);
      u.releaseBytes(200);
      u.releaseFile();
      u.endCount(1_000, 7);
      assertThat(u.bytes()).isEqualTo(1_520);
      assertThat(u.files()).isEqualTo(8);
      // Outside a recount, changes are kept in the count itself, and a failed walk changes nothing.
      u.beginCount();
      u.endCount(-1, -1);
      assertThat(u.bytes()).isEqualTo(1_520);
      assertThat(u.takeBytes(80, null)).isTrue();
      assertThat(u.bytes()).isEqualTo(1_600);
    } finally {
      q.close();
    }
  }
}
