package dev.sftp.gateway.fs;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;

/**
 * Resolves a path inside a home the way the kernel will, one component at a time, following
 * symbolic links, and refuses any path that would leave the home: through {@code ..}, an absolute
 * link, or a relative link, whether the user made it or it was already on the volume.
 */
public final class PathConfinement {
  private static final int MAX_LINKS = 40;

  private PathConfinement() {}

  /**
   * Resolves {@code relative} (names below the home, no leading slash) against {@code realHome}
   * (a real path, from {@link Path#toRealPath}).
   *
   * @return the physical path the kernel would use (it may not exist yet)
   * @throws AccessDeniedException when the resolution leaves the home or loops
   */
  public static Path resolve(Path realHome, Path start, Iterable<String> names) throws IOException {
    return resolveEntry(realHome, start, names).path();
  }

  /** What is at a resolved path, as the resolution saw it. */
  public enum Kind {
    /** Nothing (the path may be created). */
    MISSING,
    DIRECTORY,
    /** A regular file or anything else that is not a directory. */
    OTHER
  }

  /** A resolved path and what the resolution found there (links followed). */
  public record Entry(Path path, Kind kind) {}

  /** {@link #resolve}, also telling what is at the resolved path, so callers need not look again. */
  public static Entry resolveEntry(Path realHome, Path start, Iterable<String> names) throws IOException {
    Deque<String> queue = new ArrayDeque<>();
    for (String n : names) {
      queue.addLast(n);
    }
    Path cur = start;
    int links = 0;
    boolean missing = false;
    // The start is a directory (a home, or the directory a link sits in).
    Kind kind = Kind.DIRECTORY;
    while (!queue.isEmpty()) {
      String n = queue.pollFirst();
      if (n.isEmpty() || n.equals(".")) {
        continue;
      }
      if (n.equals("..")) {
        if (cur.equals(realHome)) {
          throw denied();
        }
        cur = cur.getParent();
        kind = Kind.DIRECTORY; // walked down through it
        continue;
      }
      Path next = cur.resolve(n);
      if (!missing) {
        BasicFileAttributes a;
        try {
          a = Files.readAttributes(next, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
          a = null;
          missing = true;
        }
        kind = a == null ? Kind.MISSING : a.isDirectory() ? Kind.DIRECTORY : Kind.OTHER;
        if (a != null && a.isSymbolicLink()) {
          if (++links > MAX_LINKS) {
            throw denied();
          }
          Path target = Files.readSymbolicLink(next);
          Deque<String> expanded = new ArrayDeque<>();
          if (target.isAbsolute()) {
            // Only links into this home are followed; the home is a real path, so a textual
            // prefix match is exact. What follows the prefix is resolved like any other name.
            if (!target.startsWith(realHome)) {
              throw denied();
            }
            cur = realHome;
            target = realHome.relativize(target);
          }
          for (Path part : target) {
            expanded.addLast(part.toString());
          }
          for (Iterator<String> it = expanded.descendingIterator(); it.hasNext(); ) {
            queue.addFirst(it.next());
          }
          kind = Kind.DIRECTORY; // cur, where the target's names start (a link to "." ends here)
          continue;
        }
      }
      cur = next;
    }
    if (!cur.startsWith(realHome)) {
      throw denied();
    }
    return new Entry(cur, missing ? Kind.MISSING : kind);
  }

  private static AccessDeniedException denied() {
    // No path in the message: it would tell the client about the server's layout.
    return new AccessDeniedException("path leaves the home directory");
  }
}
