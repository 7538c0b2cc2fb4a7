package dev.sftp.operator.cli;

import dev.sftp.contract.ContractJson;
import dev.sftp.contract.GatewayConfig;
import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.Attachments;
import dev.sftp.operator.render.SecretData;
import dev.sftp.operator.render.GatewayRender;
import dev.sftp.operator.render.HostKeyMaterial;
import dev.sftp.operator.render.UserResolver;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * {@code render}: the operator's rendering without a cluster. Reads manifests (SftpGateway,
 * SftpUser, Secret, ConfigMap) from files and writes the gateway's config directory, exactly as
 * the pod would see its Secrets. Host keys are generated once into the directory and kept.
 *
 * <pre>render -f examples/quickstart [-f more.yaml] -o local/config [--gateway NAME] [--known-hosts FILE --host H --port P]</pre>
 */
public final class Render {
  private Render() {}

  public static void main(String[] args) throws Exception {
    List<Path> inputs = new ArrayList<>();
    Path out = null;
    String gateway = null;
    Path knownHosts = null;
    String host = "127.0.0.1";
    int port = 2222;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "-f" -> inputs.add(Path.of(args[++i]));
        case "-o" -> out = Path.of(args[++i]);
        case "--gateway" -> gateway = args[++i];
        case "--known-hosts" -> knownHosts = Path.of(args[++i]);
        case "--host" -> host = args[++i];
        case "--port" -> port = Integer.parseInt(args[++i]);
        default -> {
          System.err.println("usage: render -f FILE_OR_DIR... -o CONFIG_DIR [--gateway NAME] [--known-hosts FILE --host H --port P]");
          System.exit(2);
        }
      }
    }
    if (inputs.isEmpty() || out == null) {
      System.err.println("usage: render -f FILE_OR_DIR... -o CONFIG_DIR [--gateway NAME] [--known-hosts FILE --host H --port P]");
      System.exit(2);
    }
    try {
      Result r = render(inputs, out, gateway);
      if (knownHosts != null) {
        Files.writeString(knownHosts, HostKeyMaterial.knownHosts(host, port, r.hostKeys()));
      }
      System.out.print(r.report(host, port));
    } catch (IllegalArgumentException e) {
      System.err.println("render: " + e.getMessage());
      System.exit(1);
    }
  }

  /** What was rendered. */
  public record Result(SftpGateway gateway, List<Attachments.Attachment> users, List<HostKeyMaterial.ParsedKey> hostKeys, Path configDir,
      Map<String, String> generatedPasswords) {
    String report(String host, int port) {
      StringBuilder sb = new StringBuilder();
      sb.append("rendered gateway ").append(gateway.getMetadata().getNamespace()).append('/').append(gateway.getMetadata().getName())
          .append(" into ").append(configDir).append('\n');
      for (HostKeyMaterial.ParsedKey k : hostKeys) {
        sb.append("  host key ").append(k.type()).append(' ').append(k.fingerprint()).append('\n');
      }
      for (Attachments.Attachment a : users) {
        String login = UserResolver.username(a.user());
        sb.append("  user ").append(login).append(": ").append(a.reason() == null ? "Ready" : a.reason() + " - " + a.message()).append('\n');
        if (a.served()) {
          sb.append("    sftp -P ").append(port).append(' ').append(login).append('@').append(host).append('\n');
          var p = a.user().getSpec().password;
          String made = p != null && Boolean.TRUE.equals(p.generate)
              ? generatedPasswords.get(a.user().getMetadata().getNamespace() + "/" + UserResolver.generatedPasswordSecret(a.user())) : null;
          if (made != null) {
            sb.append("    password (generated, kept in ").append(generatedFile(configDir)).append("): ").append(made).append('\n');
          }
        }
      }
      return sb.toString();
    }
  }

  public static Result render(List<Path> inputs, Path out, String gatewayName) throws IOException {
    KubernetesSerialization json = new KubernetesSerialization();
    List<SftpGateway> gateways = new ArrayList<>();
    List<SftpUser> users = new ArrayList<>();
    Map<String, Secret> secrets = new TreeMap<>();
    Map<String, ConfigMap> configMaps = new TreeMap<>();
    Map<String, Map<String, String>> namespaceLabels = new TreeMap<>();
    for (Path file : files(inputs)) {
      for (String doc : Files.readString(file).split("(?m)^---\\s*$")) {
        if (doc.isBlank() || doc.lines().allMatch(l -> l.isBlank() || l.trim().startsWith("#"))) {
          continue;
        }
        GenericKubernetesResource g = json.unmarshal(doc, GenericKubernetesResource.class);
        if (g == null || g.getKind() == null || g.getMetadata() == null) {
          continue; // not a Kubernetes object (a kustomization.yaml, a values file)
        }
        if (g.getKind().equals("Namespace")) {
          // Their labels, for spec.users.namespaceSelector, as the operator reads them.
          namespaceLabels.put(g.getMetadata().getName(), g.getMetadata().getLabels() == null ? Map.of() : g.getMetadata().getLabels());
          continue;
        }
        if (g.getMetadata().getNamespace() == null) {
          g.getMetadata().setNamespace("default");
        }
        switch (g.getKind()) {
          case "SftpGateway" -> gateways.add(json.convertValue(g, SftpGateway.class));
          case "SftpUser" -> users.add(json.convertValue(g, SftpUser.class));
          case "Secret" -> secrets.put(g.getMetadata().getNamespace() + "/" + g.getMetadata().getName(), json.convertValue(g, Secret.class));
          case "ConfigMap" -> configMaps.put(g.getMetadata().getNamespace() + "/" + g.getMetadata().getName(), json.convertValue(g, ConfigMap.class));
          default -> { }
        }
      }
    }
    SftpGateway gw = gateways.stream().filter(g -> gatewayName == null || g.getMetadata().getName().equals(gatewayName)).findFirst()
        .orElseThrow(() -> new IllegalArgumentException(gatewayName == null ? "no SftpGateway in the manifests" : "no SftpGateway named " + gatewayName));
    if (gatewayName == null && gateways.size() > 1) {
      throw new IllegalArgumentException("the manifests hold " + gateways.size() + " SftpGateways: choose one with --gateway");
    }
    Files.createDirectories(out);

    // Host keys: the referenced Secret, or generated once and kept in the config directory.
    Map<String, String> keyData = new TreeMap<>();
    if (gw.getSpec().hostKeys != null && gw.getSpec().hostKeys.secretName != null) {
      Secret s = secrets.get(gw.getMetadata().getNamespace() + "/" + gw.getSpec().hostKeys.secretName);
      if (s == null) {
        throw new IllegalArgumentException("Secret " + gw.getSpec().hostKeys.secretName + " (spec.hostKeys.secretName) is not in the manifests");
      }
      keyData.putAll(base64(s));
    } else {
      for (String name : HostKeyMaterial.GENERATED_FILES) {
        if (Files.exists(out.resolve(name))) {
          keyData.put(name, Base64.getEncoder().encodeToString(Files.readAllBytes(out.resolve(name))));
        }
      }
      if (keyData.isEmpty()) {
        HostKeyMaterial.generate().forEach((k, v) -> keyData.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.US_ASCII))));
      }
    }
    List<HostKeyMaterial.ParsedKey> parsed = HostKeyMaterial.parse(keyData);

    // Generated passwords (spec.password.generate): the operator makes a Secret in the user's
    // namespace once; here, one kept beside the config directory (mode 600), reused next time.
    Map<String, String> generated = new TreeMap<>(readGenerated(generatedFile(out)));
    boolean newPasswords = false;
    for (SftpUser u : users) {
      if (u.getSpec() != null && u.getSpec().password != null && Boolean.TRUE.equals(u.getSpec().password.generate)) {
        String key = u.getMetadata().getNamespace() + "/" + UserResolver.generatedPasswordSecret(u);
        if (!secrets.containsKey(key)) {
          if (!generated.containsKey(key)) {
            generated.put(key, UserResolver.generatedPasswordData(u).get(UserResolver.GENERATED_PASSWORD_KEY));
            newPasswords = true;
          }
          Secret s = new Secret();
          s.setMetadata(new io.fabric8.kubernetes.api.model.ObjectMetaBuilder().withName(UserResolver.generatedPasswordSecret(u))
              .withNamespace(u.getMetadata().getNamespace()).build());
          s.setStringData(Map.of(UserResolver.GENERATED_PASSWORD_KEY, generated.get(key), "username", UserResolver.username(u)));
          secrets.put(key, s);
        }
      }
    }
    if (newPasswords) {
      writeGenerated(generatedFile(out), generated);
    }

    UserResolver.Lookup lookup = new UserResolver.Lookup() {
      @Override
      public Map<String, String> secret(String namespace, String name) {
        Secret s = secrets.get(namespace + "/" + name);
        return s == null ? null : SecretData.decode(s);
      }

      @Override
      public Map<String, String> configMap(String namespace, String name) {
        ConfigMap c = configMaps.get(namespace + "/" + name);
        return c == null ? null : c.getData() == null ? Map.of() : c.getData();
      }
    };
    // Hashes rendered before, read back the way the operator reads its shards: an unchanged
    // password keeps its hash, so the files do not change on every run.
    Map<String, String> existing = SecretData.renderedHashes(userLists(out));
    java.util.function.BiFunction<SftpUser, String, String> hasher = (u, plain) -> {
      String h = existing.get(UserResolver.username(u));
      return h != null && dev.sftp.contract.PasswordHashes.verify(h, plain) ? h : dev.sftp.contract.PasswordHashes.hashArgon2id(plain);
    };
    // Namespaces: the labels of the Namespace manifests among the inputs (none: no label).
    List<Attachments.Attachment> attachments = Attachments.attach(gw, users,
        Attachments.Inputs.of(lookup, hasher, ns -> namespaceLabels.getOrDefault(ns, Map.of()), java.time.Instant.now()));
    List<UserEntry> served = Attachments.served(attachments);
    ServerSettings server = GatewayRender.serverSettings(gw, GatewayRender.hostKeyFiles(keyData));
    for (Map.Entry<String, String> k : keyData.entrySet()) {
      writeFile(out.resolve(k.getKey()), Base64.getDecoder().decode(k.getValue()));
    }
    // The same Secrets the operator renders, as files: gateway.json and the user shards.
    writeData(out, GatewayRender.configSecret(gw, server, List.of()));
    for (Secret shard : GatewayRender.userShards(gw, served)) {
      writeData(out, shard);
    }
    return new Result(gw, attachments, parsed, out, generated);
  }

  /** Where render keeps the passwords it generated: beside the config directory, not in it. */
  static Path generatedFile(Path out) {
    Path abs = out.toAbsolutePath().normalize();
    return abs.resolveSibling(abs.getFileName() + ".generated-passwords.json");
  }

  static Map<String, String> readGenerated(Path f) throws IOException {
    if (!Files.exists(f)) {
      return Map.of();
    }
    return ContractJson.mapper().readValue(Files.readString(f), new com.fasterxml.jackson.core.type.TypeReference<Map<String, String>>() {});
  }

  static void writeGenerated(Path f, Map<String, String> passwords) throws IOException {
    writeFile(f, ContractJson.write(passwords).getBytes(StandardCharsets.UTF_8), PosixFilePermissions.fromString("rw-------"));
  }

  /** The user lists rendered into a folder before, by file name. */
  static Map<String, byte[]> userLists(Path dir) throws IOException {
    Map<String, byte[]> out = new TreeMap<>();
    for (int i = 0; i < dev.sftp.operator.render.Names.USER_SHARDS; i++) {
      Path f = dir.resolve(dev.sftp.operator.render.Names.userShardFile(i));
      if (Files.exists(f)) {
        out.put(f.getFileName().toString(), Files.readAllBytes(f));
      }
    }
    return out;
  }

  static void writeData(Path dir, Secret s) throws IOException {
    for (Map.Entry<String, String> e : s.getData().entrySet()) {
      writeFile(dir.resolve(e.getKey()), Base64.getDecoder().decode(e.getValue()));
    }
  }

  /**
   * Writes a file of the config directory with the mode the pod sees ({@link
   * dev.sftp.operator.render.GatewayRender#CONFIG_FILE_MODE}, r--r-----: user lists hold password
   * hashes, host keys are private), never readable by others at any moment: written to a
   * temporary file made private, then moved over the old one (which may be read-only).
   */
  static void writeFile(Path f, byte[] data) throws IOException {
    writeFile(f, data, dev.sftp.operator.render.GatewayRender.configFilePermissions());
  }

  /** Writes a file with these permissions, private until then, replacing any old one at once. */
  static void writeFile(Path f, byte[] data, java.util.Set<java.nio.file.attribute.PosixFilePermission> mode) throws IOException {
    Path tmp = Files.createTempFile(f.toAbsolutePath().getParent(), ".render-", ".tmp",
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    try {
      Files.write(tmp, data);
      Files.setPosixFilePermissions(tmp, mode);
      Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    } finally {
      Files.deleteIfExists(tmp);
    }
  }

  /** A Secret's data as the API returns it (base64), stringData included. */
  static Map<String, String> base64(Secret s) {
    Map<String, String> d = new TreeMap<>();
    SecretData.files(s).forEach((k, v) -> d.put(k, Base64.getEncoder().encodeToString(v)));
    return d;
  }

  static List<Path> files(List<Path> inputs) throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path p : inputs) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> s = Files.list(p)) {
          s.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().forEach(out::add);
        }
      } else {
        out.add(p);
      }
    }
    return out;
  }
}
