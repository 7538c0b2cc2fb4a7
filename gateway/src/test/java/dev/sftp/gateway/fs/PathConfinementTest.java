package dev.sftp.gateway.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.sftp.gateway.fs.PathConfinement.Entry;
import dev.sftp.gateway.fs.PathConfinement.Kind;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathConfinementTest {
  @TempDir Path tmp;
  Path home;

  @BeforeEach
  void layout() throws Exception {
    home = Files.createDirectories(tmp.resolve("data/alice")).toRealPath();
    Files.createDirectories(tmp.resolve("data/alicia"));
    Files.createDirectories(home.resolve("a/b"));
    Files.createSymbolicLink(home.resolve("in-abs"), home.resolve("a/b"));
    Files.createSymbolicLink(home.resolve("in-rel"), Path.of("a/b"));
    Files.createSymbolicLink(home.resolve("a/up"), Path.of(".."));
    Files.createSymbolicLink(home.resolve("out-rel"), Path.of("../alicia"));
    Files.createSymbolicLink(home.resolve("out-prefix"), tmp.resolve("data/alicia").toRealPath());
    Files.createSymbolicLink(home.resolve("loop1"), Path.of("loop2"));
    Files.createSymbolicLink(home.resolve("loop2"), Path.of("loop1"));
    Files.createSymbolicLink(home.resolve("via-up"), Path.of("a/up/../x"));
    Files.writeString(home.resolve("a/b/f.txt"), "f");
    Files.createSymbolicLink(home.resolve("to-file"), Path.of("a/b/f.txt"));
    Files.createSymbolicLink(home.resolve("to-dot"), Path.of("."));
    Files.createSymbolicLink(home.resolve("a/b/dangling"), Path.of("nothing-here"));
  }

  Path resolve(String... names) throws Exception {
    return PathConfinement.resolve(home, home, List.of(names));
  }

  @Test
  void followsLinksThatStayInside() throws Exception {
    assertThat(resolve("in-abs", "f")).isEqualTo(home.resolve("a/b/f"));
    assertThat(resolve("in-rel", "f")).isEqualTo(home.resolve("a/b/f"));
    assertThat(resolve("a", "up", "a")).isEqualTo(home.resolve("a"));
    assertThat(resolve("new", "deeper", "file")).isEqualTo(home.resolve("new/deeper/file"));
    assertThat(resolve()).isEqualTo(home);
  }

  Entry entry(String... names) throws Exception {
    return PathConfinement.resolveEntry(home, home, List.of(names));
  }

  @Test
  void tellsWhatIsAtTheResolvedPath() throws Exception {
    assertThat(entry()).isEqualTo(new Entry(home, Kind.DIRECTORY));
    assertThat(entry("a", "b")).isEqualTo(new Entry(home.resolve("a/b"), Kind.DIRECTORY));
    assertThat(entry("a", "b", "f.txt")).isEqualTo(new Entry(home.resolve("a/b/f.txt"), Kind.OTHER));
    assertThat(entry("to-file")).isEqualTo(new Entry(home.resolve("a/b/f.txt"), Kind.OTHER));
    assertThat(entry("in-rel")).isEqualTo(new Entry(home.resolve("a/b"), Kind.DIRECTORY));
    assertThat(entry("to-dot")).isEqualTo(new Entry(home, Kind.DIRECTORY));
    assertThat(entry("a", "up")).isEqualTo(new Entry(home, Kind.DIRECTORY));
    assertThat(entry("new.txt")).isEqualTo(new Entry(home.resolve("new.txt"), Kind.MISSING));
    assertThat(entry("new", "deeper")).isEqualTo(new Entry(home.resolve("new/deeper"), Kind.MISSING));
    // A dangling link is resolved to where a create would put the file.
    assertThat(entry("a", "b", "dangling")).isEqualTo(new Entry(home.resolve("a/b/nothing-here"), Kind.MISSING));
  }

  @Test
  void refusesEveryWayOut() {
    assertThatThrownBy(() -> resolve("..")).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> resolve("a", "..", "..", "alicia")).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> resolve("out-rel", "f")).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> resolve("out-prefix")).isInstanceOf(AccessDeniedException.class);
    // "a/up" is the home itself, so its ".." is outside, whatever the text looks like.
    assertThatThrownBy(() -> resolve("via-up")).isInstanceOf(AccessDeniedException.class);
    assertThatThrownBy(() -> resolve("loop1")).isInstanceOf(AccessDeniedException.class);
  }
}
