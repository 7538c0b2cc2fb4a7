package dev.sftp.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The gateway's config directory as the operator lays it out (and as a pod sees its Secrets):
 * {@value #MAIN_FILE} with the server settings and users, optional {@code users-*.json} user lists,
 * host key files beside them.
 */
public final class ConfigDirectory {
  public static final String MAIN_FILE = "gateway.json";
  public static final String USER_LIST_PREFIX = "users-";
  public static final String USER_LIST_SUFFIX = ".json";

  /** The name of the {@code n}th user list file, {@code users-NN.json}, as the operator renders it. */
  public static String userListFile(int n) {
    return USER_LIST_PREFIX + String.format("%02d", n) + USER_LIST_SUFFIX;
  }

  private ConfigDirectory() {}

  /**
   * What was read.
   *
   * @param server server settings (never null)
   * @param users valid users, in name order
   * @param userErrors why each rejected user entry was rejected
   * @param digest SHA-256 over every file read, to tell whether anything changed
   */
  public record Loaded(
      ServerSettings server, List<UserEntry> users, List<ValidationError> userErrors, String digest) {}

  /**
   * Reads and validates the directory.
   *
   * @throws ContractException when {@value #MAIN_FILE} is missing, not JSON or invalid as a whole
   */
  public static Loaded load(Path dir) throws ContractException {
    return load(dir, null);
  }

  /**
   * As {@link #load(Path)}, but with the user lists given by file name and content instead of
   * read from the directory's {@code users-*.json} files (when the gateway follows its Secrets
   * through the Kubernetes API rather than through the mounted volume).
   *
   * @param userLists file name → content, or null to read the directory's files
   */
  public static Loaded load(Path dir, Map<String, byte[]> userLists) throws ContractException {
    MessageDigest digest = sha256();
    Path main = dir.resolve(MAIN_FILE);
    JsonNode root = readTree(main, digest);
    List<ValidationError> docErrors = ContractValidator.validateDocument(root, GatewayConfig.KIND);
    if (!docErrors.isEmpty()) {
      throw new ContractException(main.toString(), docErrors);
    }
    ServerSettings server;
    try {
      JsonNode s = root.get("server");
      server =
          s == null || s.isNull()
              ? ContractJson.convert(ContractJson.mapper().createObjectNode(), ServerSettings.class)
              : ContractJson.convert(s, ServerSettings.class);
    } catch (JsonProcessingException e) {
      throw new ContractException(main.toString(), List.of(new ValidationError("$.server", ValidationError.Reason.INVALID_SERVER_SETTING, e.getOriginalMessage())));
    }

    Map<String, byte[]> lists = userLists != null ? new java.util.TreeMap<>(userLists) : readUserLists(dir);
    Users users = users(root, lists, digest);
    return new Loaded(server, users.valid(), users.errors(), HexFormat.of().formatHex(digest.digest()));
  }

  /**
   * The users of a set of user lists alone (file name → content; names that are not {@code
   * users-*.json} are skipped), validated as {@link #load} validates them: what the operator reads
   * back from the lists it rendered (to keep their password hashes) and what {@code render} reads
   * from a config directory.
   */
  public static Users users(Map<String, byte[]> userLists) {
    return users(null, new java.util.TreeMap<>(userLists), sha256());
  }

  /**
   * Valid users and the errors of the rejected entries.
   *
   * @param valid the usable users, in name order
   * @param errors why each rejected entry was rejected
   */
  public record Users(List<UserEntry> valid, List<ValidationError> errors) {}

  private static Users users(JsonNode main, Map<String, byte[]> lists, MessageDigest digest) {
    List<ValidationError> userErrors = new ArrayList<>();
    Map<String, List<Candidate>> byName = new HashMap<>();
    if (main != null) {
      collect(main, "", byName, userErrors);
    }
    for (Map.Entry<String, byte[]> list : lists.entrySet()) {
      if (!list.getKey().startsWith(USER_LIST_PREFIX) || !list.getKey().endsWith(USER_LIST_SUFFIX)) {
        continue;
      }
      String prefix = list.getKey() + " ";
      JsonNode doc;
      try {
        doc = parse(list.getKey(), list.getValue(), digest);
      } catch (ContractException e) {
        for (ValidationError err : e.errors()) {
          userErrors.add(err.within(prefix, ""));
        }
        continue;
      }
      List<ValidationError> errs = ContractValidator.validateDocument(doc, UserList.KIND);
      if (!errs.isEmpty()) {
        for (ValidationError err : errs) {
          userErrors.add(err.within(prefix, " (all users of this file are ignored)"));
        }
        continue;
      }
      collect(doc, prefix, byName, userErrors);
    }

    Map<String, UserEntry> users = new LinkedHashMap<>();
    for (String name : new TreeSet<>(byName.keySet())) {
      List<Candidate> cands = byName.get(name);
      if (cands.size() > 1) {
        List<String> where = cands.stream().map(Candidate::path).toList();
        for (Candidate c : cands) {
          userErrors.add(new ValidationError(c.path + ".name", ValidationError.Reason.DUPLICATE_USER, "user '" + name + "' is defined more than once (" + String.join(", ", where) + "); all its entries are ignored"));
        }
        continue;
      }
      users.put(name, cands.get(0).entry);
    }
    return new Users(List.copyOf(users.values()), userErrors);
  }


  private record Candidate(String path, UserEntry entry) {}

  private static void collect(JsonNode doc, String prefix, Map<String, List<Candidate>> byName, List<ValidationError> userErrors) {
    JsonNode users = doc.get("users");
    if (users == null || users.isNull()) {
      return;
    }
    for (int i = 0; i < users.size(); i++) {
      String path = prefix + "$.users[" + i + "]";
      JsonNode u = users.get(i);
      List<ValidationError> errs = ContractValidator.validateUser(u, path);
      if (errs.isEmpty()) {
        try {
          UserEntry e = ContractJson.convert(u, UserEntry.class);
          byName.computeIfAbsent(e.name(), k -> new ArrayList<>()).add(new Candidate(path, e));
          continue;
        } catch (JsonProcessingException ex) {
          errs = List.of(new ValidationError(path, ValidationError.Reason.INVALID_FIELD, ex.getOriginalMessage()));
        }
      }
      userErrors.addAll(errs);
    }
  }

  /** The {@code users-*.json} files of a directory, by file name (unreadable ones left out). */
  public static Map<String, byte[]> readUserLists(Path dir) {
    Map<String, byte[]> out = new java.util.TreeMap<>();
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, USER_LIST_PREFIX + "*" + USER_LIST_SUFFIX)) {
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

  private static JsonNode readTree(Path file, MessageDigest digest) throws ContractException {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ContractException(file.toString(), List.of(new ValidationError("$", ValidationError.Reason.INVALID_DOCUMENT, "cannot read the file: " + e)));
    }
    return parse(file.toString(), bytes, digest);
  }

  private static JsonNode parse(String file, byte[] bytes, MessageDigest digest) throws ContractException {
    digest.update(Path.of(file).getFileName().toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    digest.update(bytes);
    try {
      return ContractJson.mapper().readTree(bytes);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : " at line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr();
      throw new ContractException(file, List.of(new ValidationError("$", ValidationError.Reason.INVALID_DOCUMENT, "not valid JSON" + where + ": " + e.getOriginalMessage())));
    } catch (IOException e) {
      throw new ContractException(file, List.of(new ValidationError("$", ValidationError.Reason.INVALID_DOCUMENT, "cannot read the file: " + e)));
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
