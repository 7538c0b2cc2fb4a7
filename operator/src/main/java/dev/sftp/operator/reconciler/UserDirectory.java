package dev.sftp.operator.reconciler;

import dev.sftp.contract.PasswordHashes;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.render.Attachments;
import dev.sftp.operator.render.SecretData;
import dev.sftp.operator.render.UserResolver;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Namespace;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.client.KubernetesClient;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The I/O behind the user decisions of {@link Attachments}: referenced Secrets and ConfigMaps
 * read from a reconciler's own informer caches first (a GET only on a miss or a stub), namespace
 * labels, and the one process-wide cache of password hashes (an unchanged password is never
 * hashed again, whichever reconciler meets it first).
 */
@ApplicationScoped
public class UserDirectory {
  private final KubernetesClient client;
  /** uid → (digest of the plain password, its hash). */
  private final Map<String, String[]> hashes = new ConcurrentHashMap<>();
  /** gateway → uid → the user's last resolution and what it was made from. */
  private final Map<String, Map<String, Resolved>> resolved = new ConcurrentHashMap<>();

  private record Resolved(String stamp, UserResolver.Resolution resolution) {}

  /** The gateway reconciler's cache of the operator's own Secrets (the rendered shards). */
  private volatile SlimStore<Secret> ownSecrets;

  public UserDirectory(KubernetesClient client) {
    this.client = client;
  }

  /** Where the rendered user shards are read from (set by the gateway reconciler). */
  void useOwnSecrets(SlimStore<Secret> store) {
    this.ownSecrets = store;
  }

  /**
   * login → hash of the users rendered for a gateway, from the cached shard Secrets (a GET per
   * shard only before the cache exists): read once per pass, and only when a plain password is
   * met that this process has not hashed yet.
   */
  public Map<String, String> renderedHashes(SftpGateway gw) {
    java.util.List<Secret> shards = new java.util.ArrayList<>();
    SlimStore<Secret> own = ownSecrets;
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      String name = Names.userShardSecret(gw, i);
      String ns = gw.getMetadata().getNamespace();
      shards.add(own != null ? own.get(ns + "/" + name) : client.secrets().inNamespace(ns).withName(name).get());
    }
    return SecretData.renderedHashes(shards);
  }

  /**
   * What {@link Attachments#attach} reads, through a reconciler's own caches.
   *
   * @param gw the gateway, whose rendered users keep their hashes across operator restarts
   */
  public Attachments.Inputs inputs(SlimStore<Secret> secrets, SlimStore<ConfigMap> configMaps, SftpGateway gw) {
    Supplier<Map<String, String>> existingHashes = () -> renderedHashes(gw);
    Supplier<Map<String, String>> once = new Supplier<>() {
      Map<String, String> value;

      @Override
      public synchronized Map<String, String> get() {
        if (value == null) {
          value = existingHashes.get();
        }
        return value;
      }
    };
    BiFunction<SftpUser, String, String> hasher = (u, plain) -> hash(u, plain, once);
    UserResolver.Lookup lookup = lookup(secrets, configMaps);
    Map<String, Resolved> known = resolved.computeIfAbsent(Names.gatewayKey(gw), k -> new ConcurrentHashMap<>());
    Function<SftpUser, UserResolver.Resolution> resolver = u -> {
      String stamp = stamp(u, secrets, configMaps);
      Resolved r = stamp == null ? null : known.get(u.getMetadata().getUid());
      if (r != null && r.stamp().equals(stamp)) {
        return r.resolution();
      }
      UserResolver.Resolution fresh = UserResolver.resolve(u, lookup, hasher);
      if (stamp != null) {
        known.put(u.getMetadata().getUid(), new Resolved(stamp, fresh));
      }
      return fresh;
    };
    return new Attachments.Inputs(resolver, this::namespaceLabels, Instant.now());
  }

  /**
   * What a user's resolution depends on: the user's and its referenced objects' versions, or
   * null when a version is unknown (then it is resolved every time). An unchanged user is not
   * validated again on every pass, which at 10,000 users was most of a pass's time.
   */
  private static String stamp(SftpUser u, SlimStore<Secret> secrets, SlimStore<ConfigMap> configMaps) {
    if (u.getMetadata().getUid() == null || u.getMetadata().getResourceVersion() == null || secrets == null || configMaps == null) {
      return null;
    }
    StringBuilder sb = new StringBuilder(u.getMetadata().getResourceVersion());
    String ns = u.getMetadata().getNamespace();
    for (String name : UserResolver.referencedSecrets(u)) {
      Secret s = secrets.get(ns + "/" + name);
      if (s == null || SlimStore.isStub(s)) {
        return null; // read through the API on a miss: no version to trust yet
      }
      sb.append('/').append(s.getMetadata().getResourceVersion());
    }
    String cm = UserResolver.referencedConfigMap(u);
    if (cm != null) {
      ConfigMap c = configMaps.get(ns + "/" + cm);
      if (c == null || SlimStore.isStub(c)) {
        return null;
      }
      sb.append('|').append(c.getMetadata().getResourceVersion());
    }
    return sb.toString();
  }

  /** Forgets the resolutions of users that no longer name the gateway. */
  void retainResolved(SftpGateway gw, java.util.Set<String> uids) {
    Map<String, Resolved> known = resolved.get(Names.gatewayKey(gw));
    if (known != null) {
      known.keySet().retainAll(uids);
    }
  }

  /** Reads the caches first; a miss or a stub is read from the API server (and a stub upgraded). */
  public UserResolver.Lookup lookup(SlimStore<Secret> secrets, SlimStore<ConfigMap> configMaps) {
    return new UserResolver.Lookup() {
      @Override
      public Map<String, String> secret(String namespace, String name) {
        Secret s = read(secrets, namespace, name, () -> client.secrets().inNamespace(namespace).withName(name).get());
        return s == null ? null : SecretData.decode(s);
      }

      @Override
      public Map<String, String> configMap(String namespace, String name) {
        ConfigMap c = read(configMaps, namespace, name, () -> client.configMaps().inNamespace(namespace).withName(name).get());
        return c == null ? null : c.getData() == null ? Map.of() : c.getData();
      }
    };
  }

  /** A Secret through a cache, as {@link #lookup} reads it (the gateway's host key Secret too). */
  public Secret secret(SlimStore<Secret> secrets, String namespace, String name) {
    return read(secrets, namespace, name, () -> client.secrets().inNamespace(namespace).withName(name).get());
  }

  private static <R extends HasMetadata> R read(SlimStore<R> store, String namespace, String name, Supplier<R> get) {
    R cached = store == null ? null : store.get(namespace + "/" + name);
    if (cached != null && !SlimStore.isStub(cached)) {
      return cached;
    }
    R fresh = get.get();
    if (fresh != null && store != null && cached != null) {
      store.upgrade(fresh);
    }
    return fresh;
  }

  Map<String, String> namespaceLabels(String ns) {
    Namespace n = client.namespaces().withName(ns).get();
    return n == null || n.getMetadata().getLabels() == null ? Map.of() : n.getMetadata().getLabels();
  }

  String hash(SftpUser u, String plain, Supplier<Map<String, String>> existingHashes) {
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

  static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
