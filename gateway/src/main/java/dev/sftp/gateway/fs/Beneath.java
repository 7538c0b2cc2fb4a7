package dev.sftp.gateway.fs;

import java.io.Closeable;
import java.io.IOException;
import java.lang.reflect.Field;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Logger;

/**
 * Kernel-checked access to what lies below the data root: before each file operation, the
 * directory that holds its last name is opened one name at a time from the data root, each with
 * {@code openat(parent, name, O_NOFOLLOW)} (the JDK's {@link SecureDirectoryStream}), so that a
 * link put in place of any directory on the way, by anyone at any moment, makes the operation
 * fail instead of leading elsewhere. The operation then names its target as {@code
 * /proc/self/fd/<directory>/<name>}: the kernel starts from that very directory and follows no
 * link at the name either ({@link LinkOption#NOFOLLOW_LINKS}). {@link PathConfinement} still
 * decides, in user space, which links inside a home are followed; this makes sure that what it
 * decided is what the kernel touches.
 *
 * <p>Works on JDK 17 and later on Linux; it needs the directory's descriptor, which the JDK keeps
 * private ({@code --add-opens java.base/sun.nio.fs=ALL-UNNAMED}, in the image's command line
 * and the jar's manifest). Without it, or without {@code /proc}, every path is used as resolved
 * in user space, and a concurrent swap of a directory for a link can still win the race: {@link
 * #mode()} says which, and the server logs it at start.
 *
 * <p>What it cannot prevent: a directory moved out of the home by another program in the
 * microseconds between its opening and the operation (the descriptor then points outside).
 */
public final class Beneath {
  private static final Logger LOG = Logger.getLogger(Beneath.class.getName());
  private static final Field DFD = dfdField();

  private final Path dataRoot;
  private final boolean kernel;

  private final boolean forced;

  private Beneath(Path dataRoot, boolean kernel, boolean forced) {
    this.dataRoot = dataRoot;
    this.kernel = kernel;
    this.forced = forced;
  }

  /**
   * Checks for {@code dataRoot} (a real path, the volume's mount point, trusted) with the kernel
   * when it can.
   *
   * @param userSpaceOnly never use the kernel walk (for tests that show what it prevents)
   */
  public static Beneath of(Path dataRoot, boolean userSpaceOnly) {
    boolean kernel = !userSpaceOnly && probe(dataRoot);
    return new Beneath(dataRoot, kernel, userSpaceOnly);
  }

  /** What checks the paths, for the log line at start. */
  public String mode() {
    return kernel
        ? "kernel (openat with O_NOFOLLOW for every directory below " + dataRoot + ", then the operation at /proc/self/fd/<dir>/<name>)"
        : "user space only (" + (forced ? "gateway.confinement.user-space-only is set" : DFD == null ? "no access to directory descriptors: run with --add-opens java.base/sun.nio.fs=ALL-UNNAMED"
            : "no /proc/self/fd or no SecureDirectoryStream here") + "): a link swapped in concurrently by another program can escape";
  }

  public boolean kernel() {
    return kernel;
  }

  /** The data root (a real path). */
  public Path dataRoot() {
    return dataRoot;
  }

  /**
   * The parent directory of {@code physical} (a path lexically below the data root, from {@link
   * PathConfinement}), opened without following any link, and its last name. Close it after the
   * operation.
   */
  public At at(Path physical) throws IOException {
    if (!kernel) {
      return new At(physical, List.of());
    }
    Path rel = relative(physical);
    if (rel == null) {
      // The data root itself: held by the caller's path, not below anything.
      return new At(physical, List.of());
    }
    List<SecureDirectoryStream<Path>> opened = new ArrayList<>();
    try {
      SecureDirectoryStream<Path> dir = secure(Files.newDirectoryStream(dataRoot));
      opened.add(dir);
      for (int i = 0; i < rel.getNameCount() - 1; i++) {
        dir = dir.newDirectoryStream(rel.getName(i), LinkOption.NOFOLLOW_LINKS);
        opened.add(dir);
        // Only the last directory is needed open; the others close at once.
        opened.get(opened.size() - 2).close();
      }
      Path at = Path.of("/proc/self/fd/" + fd(dir) + "/" + rel.getFileName());
      return new At(at, List.of(dir));
    } catch (IOException | RuntimeException e) {
      for (SecureDirectoryStream<Path> d : opened) {
        closeQuietly(d);
      }
      throw e;
    }
  }

  /**
   * A listing of the directory {@code physical}, opened without following a link at any name
   * (its own included). The listed paths carry only their names.
   */
  public DirectoryStream<Path> list(Path physical) throws IOException {
    if (!kernel || relative(physical) == null) {
      return Files.newDirectoryStream(physical);
    }
    Path rel = relative(physical);
    try (At parent = at(physical)) {
      SecureDirectoryStream<Path> dir = parent.directory;
      return dir.newDirectoryStream(rel.getFileName(), LinkOption.NOFOLLOW_LINKS);
    }
  }

  /** {@code physical} relative to the data root, or null for the data root itself. */
  private Path relative(Path physical) throws AccessDeniedException {
    Path p = physical.normalize();
    if (!p.startsWith(dataRoot)) {
      throw new AccessDeniedException("path leaves the data root");
    }
    Path rel = dataRoot.relativize(p);
    return rel.toString().isEmpty() ? null : rel;
  }

  /** A directory opened for one operation, and the path that names the target through it. */
  public static final class At implements Closeable {
    private final Path path;
    private final SecureDirectoryStream<Path> directory;

    At(Path path, List<SecureDirectoryStream<Path>> open) {
      this.path = path;
      this.directory = open.isEmpty() ? null : open.get(0);
    }

    /** The target, as the operation names it (with {@link LinkOption#NOFOLLOW_LINKS}). */
    public Path path() {
      return path;
    }

    @Override
    public void close() {
      if (directory != null) {
        closeQuietly(directory);
      }
    }
  }

  private static SecureDirectoryStream<Path> secure(DirectoryStream<Path> ds) throws IOException {
    if (ds instanceof SecureDirectoryStream<Path> s) {
      return s;
    }
    ds.close();
    throw new IOException("no SecureDirectoryStream on this platform");
  }

  private static int fd(SecureDirectoryStream<Path> ds) throws IOException {
    try {
      return DFD.getInt(ds);
    } catch (IllegalAccessException | IllegalArgumentException e) {
      throw new IOException("directory descriptor not readable: " + e);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      LOG.fine("closing a directory: " + e);
    }
  }

  private static Field dfdField() {
    try {
      Field f = Class.forName("sun.nio.fs.UnixSecureDirectoryStream").getDeclaredField("dfd");
      f.setAccessible(true);
      return f;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /** Whether the walk works here: a SecureDirectoryStream, its descriptor, and /proc/self/fd. */
  private static boolean probe(Path dataRoot) {
    if (DFD == null) {
      return false;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dataRoot)) {
      if (!(ds instanceof SecureDirectoryStream<Path> s)) {
        return false;
      }
      Path self = Path.of("/proc/self/fd/" + fd(s));
      return Files.isSameFile(self, dataRoot);
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }
}
