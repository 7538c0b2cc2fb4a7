package dev.sftp.operator.reconciler;

import dev.sftp.contract.PasswordHashes;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.UserResolver;
import dev.sftp.operator.render.UserResolver.Resolution;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Decides, for a gateway and the SftpUsers that name it, who is served and why the others are
 * not. Both reconcilers use it, so the gateway's rendered users and each user's status always
 * agree.
 */
@ApplicationScoped
public class UserDirectory {
  private final UserResolver.Lookup lookup;
  private final KubernetesClient client;
  private final java.util.function.Function<String, Map<String, String>> namespaceLabels;
  /** uid → (digest of the plain password, its hash): an unchanged password is never re-hashed. */
  private final Map<String, String[]> hashes = new ConcurrentHashMap<>();

  /** The user reconciler's informer caches of Secrets and ConfigMaps, once it has made them. */
  private volatile Caches caches;

  /** Where referenced Secrets and ConfigMaps are read first (informer caches). */
  public record Caches(InformerEventSource<Secret, ?> secrets, InformerEventSource<ConfigMap, ?> configMaps) {}

  @jakarta.inject.Inject
  public UserDirectory(KubernetesClient client) {
    this.lookup = null;
    this.client = client;
    this.namespaceLabels = ns -> {
      Namespace n = client.namespaces().withName(ns).get();
      return n == null || n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
    };
  }

  /** For use without a cluster (the render command): lookups from manifests. */
  public UserDirectory(UserResolver.Lookup lookup, java.util.function.Function<String, Map<String, String>> namespaceLabels) {
    this.lookup = lookup;
    this.client = null;
    this.namespaceLabels = namespaceLabels;
  }

  /** Reads referenced objects from these informer caches from now on (a GET only on a miss). */
  public void useCaches(Caches caches) {
    this.caches = caches;
  }

  /**
   * A Secret from the informer cache; on a miss (the cache not yet synced after a start, or the
   * object really missing) from the API server. A steady-state reconcile makes no reads.
   */
  public Secret secret(String namespace, String name) {
    Caches c = caches;
    if (c != null) {
      Secret s = c.secrets().get(new ResourceID(name, namespace)).orElse(null);
      if (s != null) {
        return s;
      }
    }
    return client == null ? null : client.secrets().inNamespace(namespace).withName(name).get();
  }

  ConfigMap configMap(String namespace, String name) {
    Caches c = caches;
    if (c != null) {
      ConfigMap m = c.configMaps().get(new ResourceID(name, namespace)).orElse(null);
      if (m != null) {
        return m;
      }
    }
    return client == null ? null : client.configMaps().inNamespace(namespace).withName(name).get();
  }

  private UserResolver.Lookup lookup() {
    return lookup != null ? lookup : clusterLookup(this);
  }

  /** One user's place on a gateway. */
  public record Attachment(SftpUser user, Resolution resolution, String reason, String message) {
    /** Rendered into the gateway (possibly disabled or expired, which the gateway enforces). */
    public boolean served() {
      return resolution != null && resolution.entry() != null && (reason == null || reason.equals("Disabled") || reason.equals("Expired"));
    }
  }

  public static boolean names(SftpUser u, SftpGateway gw) {
    if (u.getSpec() == null || u.getSpec().gateway == null) {
      return false;
    }
    String ns = u.getSpec().gateway.namespace == null ? u.getMetadata().getNamespace() : u.getSpec().gateway.namespace;
    return gw.getMetadata().getName().equals(u.getSpec().gateway.name) && gw.getMetadata().getNamespace().equals(ns);
  }

  /** Every user that names the gateway, with its outcome, in a stable order. */
  public List<Attachment> attach(SftpGateway gw, Collection<SftpUser> candidates, Map<String, String> existingHashes) {
    return attach(gw, candidates, () -> existingHashes);
  }

  /**
   * As {@link #attach(SftpGateway, Collection, Map)}, reading the rendered hashes only if a plain
   * password is met that this process has not hashed before (after a restart).
   */
  public List<Attachment> attach(SftpGateway gw, Collection<SftpUser> candidates, java.util.function.Supplier<Map<String, String>> existingHashes) {
    java.util.function.Supplier<Map<String, String>> once = new java.util.function.Supplier<>() {
      Map<String, String> value;

      @Override
      public Map<String, String> get() {
        if (value == null) {
          value = existingHashes.get();
        }
        return value;
      }
    };
    List<SftpUser> users = candidates.stream().filter(u -> names(u, gw))
        // Older first; creation times have one-second resolution, so within the same second the
        // user already Ready keeps its login, then namespace and name decide.
        .sorted(Comparator.comparing((SftpUser u) -> String.valueOf(u.getMetadata().getCreationTimestamp()))
            .thenComparing(u -> !SftpUserReconciler.ready(u))
            .thenComparing(u -> u.getMetadata().getNamespace())
            .thenComparing(u -> u.getMetadata().getName()))
        .toList();
    List<Attachment> out = new ArrayList<>();
    Map<String, SftpUser> byLogin = new java.util.HashMap<>();
    Map<String, Boolean> admitted = new java.util.HashMap<>();
    UserResolver.Lookup lookup = lookup();
    for (SftpUser u : users) {
      if (!admitted.computeIfAbsent(u.getMetadata().getNamespace(), ns -> admits(gw, ns))) {
        out.add(new Attachment(u, null, "NamespaceNotAllowed", "gateway " + gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName()
            + " does not admit users from namespace " + u.getMetadata().getNamespace() + ": add it to the gateway's spec.users.allowedNamespaces or namespaceSelector"));
        continue;
      }
      Resolution r = UserResolver.resolve(u, lookup, (user, plain) -> hash(user, plain, once), Instant.now());
      if (r.entry() == null) {
        out.add(new Attachment(u, r, r.reason(), r.message()));
        continue;
      }
      SftpUser first = byLogin.putIfAbsent(r.entry().name(), u);
      if (first != null) {
        out.add(new Attachment(u, r, "UsernameConflict", "login name '" + r.entry().name() + "' is already used on this gateway by SftpUser "
            + first.getMetadata().getNamespace() + "/" + first.getMetadata().getName() + " (the older one wins): set spec.username"));
        continue;
      }
      out.add(new Attachment(u, r, r.reason(), r.message()));
    }
    return out;
  }

  /** The users to render, sorted by login name. */
  public static List<UserEntry> served(List<Attachment> attachments) {
    return attachments.stream().filter(Attachment::served).map(a -> a.resolution().entry())
        .sorted(Comparator.comparing(UserEntry::name)).toList();
  }

  boolean admits(SftpGateway gw, String ns) {
    if (gw.getMetadata().getNamespace().equals(ns)) {
      return true;
    }
    SftpGatewaySpec.UserPolicySpec p = gw.getSpec().users;
    if (p == null) {
      return false;
    }
    if (p.allowedNamespaces != null && p.allowedNamespaces.contains(ns)) {
      return true;
    }
    if (p.namespaceSelector != null && p.namespaceSelector.getMatchLabels() != null && !p.namespaceSelector.getMatchLabels().isEmpty()) {
      Map<String, String> labels = namespaceLabels.apply(ns);
      return p.namespaceSelector.getMatchLabels().entrySet().stream().allMatch(e -> Objects.equals(labels.get(e.getKey()), e.getValue()));
    }
    return false;
  }

  static UserResolver.Lookup clusterLookup(UserDirectory dir) {
    return new UserResolver.Lookup() {
      @Override
      public String secret(String namespace, String name, String key) {
        Secret s = dir.secret(namespace, name);
        if (s == null) {
          return null;
        }
        if (s.getData() == null || !s.getData().containsKey(key)) {
          return s.getStringData() != null && s.getStringData().containsKey(key) ? s.getStringData().get(key) : UserResolver.MISSING_KEY;
        }
        return UserResolver.decode(s.getData(), key);
      }

      @Override
      public String configMap(String namespace, String name, String key) {
        ConfigMap c = dir.configMap(namespace, name);
        if (c == null) {
          return null;
        }
        return c.getData() == null || !c.getData().containsKey(key) ? UserResolver.MISSING_KEY : c.getData().get(key);
      }
    };
  }

  String hash(SftpUser u, String plain, java.util.function.Supplier<Map<String, String>> existingHashes) {
    String key = u.getMetadata().getUid() != null ? u.getMetadata().getUid() : u.getMetadata().getNamespace() + "/" + u.getMetadata().getName();
    String digest = digest(key + "\u0000" + plain);
    // compute() serialises both reconcilers on the same user: one hash per password, never two.
    return hashes.compute(key, (k, cached) -> {
      if (cached != null && cached[0].equals(digest)) {
        return cached;
      }
      String existing = existingHashes.get().get(UserResolver.username(u));
      String h = existing != null && PasswordHashes.verify(existing, plain) ? existing : PasswordHashes.hashArgon2id(plain);
      return new String[] {digest, h};
    })[1];
  }

  /** name → hash of the users in a rendered Secret (a user shard), to reuse hashes across restarts. */
  public static Map<String, String> existingHashes(Secret rendered, String file) {
    Map<String, String> out = new java.util.HashMap<>();
    if (rendered == null || rendered.getData() == null || !rendered.getData().containsKey(file)) {
      return out;
    }
    try {
      com.fasterxml.jackson.databind.JsonNode doc = dev.sftp.contract.ContractJson.mapper().readTree(UserResolver.decode(rendered.getData(), file));
      for (com.fasterxml.jackson.databind.JsonNode u : doc.path("users")) {
        if (u.hasNonNull("passwordHash")) {
          out.put(u.path("name").asText(), u.path("passwordHash").asText());
        }
      }
    } catch (Exception e) {
      // Unreadable: hashes are simply made anew.
    }
    return out;
  }

  /** The hashes of every shard of a gateway. */
  public Map<String, String> existingHashes(SftpGateway gw) {
    Map<String, String> out = new java.util.HashMap<>();
    for (int i = 0; i < dev.sftp.operator.render.Names.USER_SHARDS; i++) {
      out.putAll(existingHashes(secret(gw.getMetadata().getNamespace(), dev.sftp.operator.render.Names.userShardSecret(gw, i)),
          dev.sftp.operator.render.Names.userShardFile(i)));
    }
    return out;
  }

  static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
