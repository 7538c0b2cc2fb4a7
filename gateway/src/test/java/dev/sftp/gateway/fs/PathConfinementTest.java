package dev.sftp.gateway.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
