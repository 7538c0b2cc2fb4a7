package dev.sftp.gateway.config;

import dev.sftp.contract.ConfigDirectory;
import dev.sftp.contract.ContractException;
import dev.sftp.contract.ValidationError;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Reads a config directory's files for the contract's {@link ConfigDirectory#parse}. */
public final class ConfigFiles {
  private ConfigFiles() {}

  /**
   * Reads and validates the directory.
   *
   * @throws ContractException when {@value ConfigDirectory#MAIN_FILE} is missing, not JSON or
   *     invalid as a whole
   */
  public static ConfigDirectory.Loaded load(Path dir) throws ContractException {
    return load(dir, null);
  }

  /**
   * As {@link #load(Path)}, but with the user lists given by file name and content instead of
   * read from the directory's {@code users-*.json} files (when the gateway follows its Secrets
   * through the Kubernetes API rather than through the mounted volume).
   *
   * @param userLists file name → content, or null to read the directory's files
   */
  public static ConfigDirectory.Loaded load(Path dir, Map<String, byte[]> userLists) throws ContractException {
    Path main = dir.resolve(ConfigDirectory.MAIN_FILE);
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(main);
    } catch (IOException e) {
      throw new ContractException(main.toString(), List.of(new ValidationError("$", ValidationError.Reason.INVALID_DOCUMENT, "cannot read the file: " + e)));
    }
    return ConfigDirectory.parse(main.toString(), bytes, userLists != null ? userLists : readUserLists(dir));
  }

  /** The {@code users-*.json} files of a directory, by file name (unreadable ones left out). */
  public static Map<String, byte[]> readUserLists(Path dir) {
    Map<String, byte[]> out = new TreeMap<>();
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, ConfigDirectory.USER_LIST_PREFIX + "*" + ConfigDirectory.USER_LIST_SUFFIX)) {
      ds.forEach(files::add);
    } catch (IOException e) {
      return out;
    }
    for (Path f : files) {
      try {
        out.put(f.getFileName().toString(), Files.readAllBytes(f));
      } catch (IOException e) {
        // A file that vanished between listing and reading (a volume swap): read it next time.
        continue;
      }
    }
    return out;
  }
}
