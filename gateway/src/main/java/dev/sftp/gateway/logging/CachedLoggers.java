package dev.sftp.gateway.logging;

import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.ILoggerFactory;
import org.slf4j.IMarkerFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.impl.JBossSlf4jServiceProvider;
import org.slf4j.spi.MDCAdapter;
import org.slf4j.spi.SLF4JServiceProvider;

/**
 * The JBoss LogManager's SLF4J binding (Quarkus's), with the loggers it hands out kept by name.
 *
 * <p>MINA asks SLF4J for a logger in the constructor of every future: three per SSH packet sent.
 * The binding answers each call with a new JBoss {@code Logger} registered with a phantom
 * reference for the garbage collector to clear later; a 1 GiB download made about 100,000 of
 * them, and the profile put 5% of the gateway's CPU there. Loggers are stateless views of their
 * node (its level and handlers), so one per name serves every caller and sees later level
 * changes. Names are class names (MINA adds a discriminator to a few); past {@link #MAX_CACHED}
 * names, loggers are made as before instead of kept.
 *
 * <p>Chosen through SLF4J's {@code slf4j.provider} system property ({@link #install}).
 */
public final class CachedLoggers implements SLF4JServiceProvider {
  static final int MAX_CACHED = 10_000;
  private static final String PROPERTY = "slf4j.provider";

  private final JBossSlf4jServiceProvider delegate = new JBossSlf4jServiceProvider();
  private final Factory factory = new Factory(name -> delegate.getLoggerFactory().getLogger(name), MAX_CACHED);

  /**
   * Makes SLF4J use this provider, unless something chose one already; takes effect only if SLF4J
   * has not handed out a logger yet (Quarkus's start-up does: call it from {@code main}).
   */
  public static void install() {
    if (System.getProperty(PROPERTY) == null) {
      System.setProperty(PROPERTY, CachedLoggers.class.getName());
      // SLF4J says at INFO on stderr that it loads the provider the property names.
      if (System.getProperty("slf4j.internal.verbosity") == null) {
        System.setProperty("slf4j.internal.verbosity", "WARN");
      }
    }
  }

  /** Whether SLF4J hands out this provider's loggers. */
  public static boolean active() {
    return LoggerFactory.getILoggerFactory() instanceof Factory;
  }

  @Override
  public ILoggerFactory getLoggerFactory() {
    return factory;
  }

  @Override
  public IMarkerFactory getMarkerFactory() {
    return delegate.getMarkerFactory();
  }

  @Override
  public MDCAdapter getMDCAdapter() {
    return delegate.getMDCAdapter();
  }

  @Override
  public String getRequestedApiVersion() {
    return delegate.getRequestedApiVersion();
  }

  @Override
  public void initialize() {
    delegate.initialize();
  }

  static final class Factory implements ILoggerFactory {
    private final ILoggerFactory delegate;
    private final int max;
    private final ConcurrentHashMap<String, Logger> loggers = new ConcurrentHashMap<>();

    Factory(ILoggerFactory delegate, int max) {
      this.delegate = delegate;
      this.max = max;
    }

    @Override
    public Logger getLogger(String name) {
      Logger l = loggers.get(name);
      if (l != null) {
        return l;
      }
      l = delegate.getLogger(name);
      if (loggers.size() < max) {
        Logger before = loggers.putIfAbsent(name, l);
        return before != null ? before : l;
      }
      return l;
    }
  }
}
