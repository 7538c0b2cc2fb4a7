package dev.sftp.gateway.support;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs a real client as a process, with a timeout, capturing its output. */
public final class Proc {
  private Proc() {}

  /** What a finished process left. */
  public record Result(int exit, String out, String err, List<String> command) {
    public String all() {
      return out + err;
    }

    @Override
    public String toString() {
      return "exit " + exit + " of " + String.join(" ", command) + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  public static Result run(List<String> cmd, Map<String, String> env, String stdin, Duration timeout) {
    return run(cmd, env, stdin, timeout, null);
  }

  public static Result run(List<String> cmd, Map<String, String> env, String stdin, Duration timeout, Path cwd) {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    if (cwd != null) {
      pb.directory(cwd.toFile());
    }
    try {
      Process p = pb.start();
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      Thread to = pump(p.getInputStream(), out);
      Thread te = pump(p.getErrorStream(), err);
      if (stdin != null) {
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
      }
      p.getOutputStream().close();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
        to.join(2000);
        te.join(2000);
        throw new AssertionError("timed out after " + timeout + ": " + String.join(" ", cmd) + "\nstdout: " + out + "\nstderr: " + err);
      }
      to.join(5000);
      te.join(5000);
      return new Result(p.exitValue(), out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8), cmd);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Starts a process whose output goes to a file, for tests that interrupt it. */
  public static Process start(List<String> cmd, Map<String, String> env, Path log) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectErrorStream(true);
    pb.redirectOutput(log.toFile());
    pb.redirectInput(ProcessBuilder.Redirect.PIPE);
    return pb.start();
  }

  private static Thread pump(InputStream in, ByteArrayOutputStream sink) {
    Thread t = new Thread(() -> {
      try {
        in.transferTo(sink);
      } catch (IOException ignored) {
        // process ended
      }
    });
    t.setDaemon(true);
    t.start();
    return t;
  }
}
