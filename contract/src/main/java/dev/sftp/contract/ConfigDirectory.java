package dev.sftp.contract;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
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
 * host key files beside them. Its files' names and their validation; reading them is the
 * caller's (the gateway's {@code ConfigFiles}), so the contract does no I/O.
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

  /** Whether a file name is a user list's ({@code users-*.json}). */
  public static boolean isUserList(String fileName) {
    return fileName.startsWith(USER_LIST_PREFIX) && fileName.endsWith(USER_LIST_SUFFIX);
  }

  /**
   * What was read.
   *
   * @param server server settings (never null)
   * @param users valid users, in name order
   * @param userErrors why each rejected user entry was rejected
   * @param digest SHA-256 over every file read, to tell whether anything changed
   * @param userLists the {@link #listDigest} of every user list read, by file name (what the
   *     gateway reports as served, see {@link ServingReport})
   */
  public record Loaded(
      ServerSettings server, List<UserEntry> users, List<ValidationError> userErrors, String digest, Map<String, String> userLists) {}

  /**
   * The digest of one user list file's content: what the operator compares with the user list it
   * rendered (the Secret's data) to know that a gateway pod serves it. 64 bits of SHA-256.
   */
  public static String listDigest(byte[] content) {
    return HexFormat.of().formatHex(sha256().digest(content), 0, 8);
  }

  /**
   * Validates a config directory's files, given as bytes: the gateway reads them from its mounted
   * volume or through the API, {@code render} from the folder it wrote. No I/O here.
   *
   * @param mainPath where {@value #MAIN_FILE} came from, for messages
   * @param main its content
   * @param userLists file name → content of the user lists; names that are not {@code
   *     users-*.json} are skipped
   * @throws ContractException when {@value #MAIN_FILE} is not JSON or invalid as a whole
   */
  public static Loaded parse(String mainPath, byte[] main, Map<String, byte[]> userLists) throws ContractException {
    MessageDigest digest = sha256();
    JsonNode root = tree(mainPath, main, digest);
    List<ValidationError> docErrors = ContractValidator.validateDocument(root, GatewayConfig.KIND);
    if (!docErrors.isEmpty()) {
      throw new ContractException(mainPath, docErrors);
    }
    ServerSettings server;
    try {
      JsonNode s = root.get("server");
      server =
          s == null || s.isNull()
              ? ContractJson.convert(ContractJson.mapper().createObjectNode(), ServerSettings.class)
              : ContractJson.convert(s, ServerSettings.class);
    } catch (JsonProcessingException e) {
      throw new ContractException(mainPath, List.of(new ValidationError("$.server", ValidationError.Reason.INVALID_SERVER_SETTING, e.getOriginalMessage())));
    }
    Map<String, byte[]> lists = new java.util.TreeMap<>(userLists);
    Users users = users(root, lists, digest);
    Map<String, String> listDigests = new java.util.TreeMap<>();
    lists.forEach((name, content) -> {
      if (isUserList(name)) {
        listDigests.put(name, listDigest(content));
      }
    });
    return new Loaded(server, users.valid(), users.errors(), HexFormat.of().formatHex(digest.digest()), Map.copyOf(listDigests));
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
      if (!isUserList(list.getKey())) {
        continue;
      }
      String prefix = list.getKey() + " ";
      JsonNode doc;
      try {
        doc = tree(list.getKey(), list.getValue(), digest);
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

  private static JsonNode tree(String file, byte[] bytes, MessageDigest digest) throws ContractException {
    int slash = file.lastIndexOf('/');
    digest.update(file.substring(slash + 1).getBytes(java.nio.charset.StandardCharsets.UTF_8));
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
