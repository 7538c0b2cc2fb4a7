package dev.sftp.operator.e2e;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Base64;
import java.util.List;
import java.util.Map;

import io.fabric8.kubernetes.api.model.Secret;

/**
 * A projected Secret volume as the kubelet writes it: the data of each update in a fresh
 * timestamped directory, mode 0440, a {@code ..data} link swapped atomically, and one link per key.
 */
public final class SecretVolume {
  private final Path mount;
  private int generation;

  public SecretVolume(Path mount) throws IOException {
    this.mount = Files.createDirectories(mount);
  }

  public Path path() {
    return mount;
  }

  public void project(List<Secret> secrets) throws IOException {
    Path data = mount.resolve("..2026_11_25_12_00_00." + (++generation));
    Files.createDirectories(data);
    for (Secret s : secrets) {
      for (Map.Entry<String, String> e : s.getData().entrySet()) {
        Path f = data.resolve(e.getKey());
        Files.write(f, Base64.getDecoder().decode(e.getValue()));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("r--r-----"));
        Path link = mount.resolve(e.getKey());
        if (!Files.exists(link, LinkOption.NOFOLLOW_LINKS)) {
          Files.createSymbolicLink(link, Path.of("..data").resolve(e.getKey()));
        }
      }
    }
    Path tmpLink = mount.resolve("..data_tmp");
    Files.deleteIfExists(tmpLink);
    Files.createSymbolicLink(tmpLink, data.getFileName());
    Files.move(tmpLink, mount.resolve("..data"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }
}
