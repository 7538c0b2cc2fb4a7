package dev.sftp.gateway.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.logging.Level;
import org.jboss.logmanager.LogContext;
import org.junit.jupiter.api.Test;
import org.slf4j.ILoggerFactory;
import org.slf4j.Logger;

class CachedLoggersTest {
  /** Through the real JBoss binding (which keeps one SLF4J wrapper per name too; the cost was the
   * JBoss logger and phantom reference behind it, made per call: see the next test). */
  @Test
  void oneLoggerPerNameThatFollowsLevelChanges() {
    CachedLoggers provider = new CachedLoggers();
    provider.initialize();
    ILoggerFactory factory = provider.getLoggerFactory();
    String name = "dev.sftp.test.cached." + UUID.randomUUID();
    Logger first = factory.getLogger(name);
    assertThat(factory.getLogger(name)).isSameAs(first);
    assertThat(factory.getLogger(name + ".child")).isNotSameAs(first);
    assertThat(first.getName()).isEqualTo(name);

    // The JBoss LogManager's node for the name carries the level: a kept logger sees it change.
    org.jboss.logmanager.Logger node = LogContext.getLogContext().getLogger(name);
    node.setLevel(Level.FINE);
    assertThat(first.isDebugEnabled()).isTrue();
    node.setLevel(Level.WARNING);
    assertThat(first.isDebugEnabled()).isFalse();
    assertThat(first.isWarnEnabled()).isTrue();
  }

  @Test
  void pastTheLimitLoggersAreMadeAsBeforeInsteadOfKept() {
    List<String> made = new ArrayList<>();
    ILoggerFactory counting = name -> {
      made.add(name);
      return new org.slf4j.helpers.NOPLogger() {}; // a new one each time
    };
    CachedLoggers.Factory factory = new CachedLoggers.Factory(counting, 2);
    for (int i = 0; i < 3; i++) {
      factory.getLogger("a");
      factory.getLogger("b");
      factory.getLogger("c");
    }
    assertThat(made).containsExactly("a", "b", "c", "c", "c");
    assertThat(factory.getLogger("a")).isSameAs(factory.getLogger("a"));
    assertThat(factory.getLogger("c")).isNotSameAs(factory.getLogger("c"));
  }
}
