package dev.sftp.operator.reconciler;

import dev.sftp.contract.PasswordHashes;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.render.Attachments;
import dev.sftp.operator.render.SecretData;
import dev.sftp.operator.render.UserResolver;
import dev.sftp.operator.status.Reasons;
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
  /**
   * Plain passwords are hashed here, one at a time ({@code -Dsftp.operator.hash-threads} for
   * more) and never on a reconciler's thread: each argon2id hash holds
   * {@value dev.sftp.contract.PasswordHashes#ARGON2_MEMORY_KIB} KiB of heap for ~50 ms of CPU, and
   * a gateway pass that hashed a bulk import inline kept every other user change waiting. One
   * thread, not two: in a 10,000-user import with 500 plain passwords the second thread's 7 MiB
   * (each lives ~50 ms, long enough to be promoted by a young collection) cost a third more full
   * collections and made the import slower, not faster (docs/benchmarks.md).
   */
  private final java.util.concurrent.ExecutorService hashers = java.util.concurrent.Executors.newFixedThreadPool(Integer.getInteger("sftp.operator.hash-threads", 1), r -> {
    Thread t = new Thread(r, "password-hash");
    t.setDaemon(true);
    return t;
  });
  /**
   * uid → the password to hash next for that user. One entry per user however often its
   * password changes (the latest wins), so a tenant rewriting its Secrets in a loop queues at
   * most one job per user of its own.
   */
  private final Map<String, HashJob> hashing = new ConcurrentHashMap<>();
  /** gateway → the versions of its shard Secrets and the hashes they hold. */
  private final Map<String, RenderedHashes> renderedHashes = new ConcurrentHashMap<>();

  private record HashJob(String digest, String plain, String existing) {}

  private record RenderedHashes(String versions, Map<String, String> byLogin) {}
  /** gateway → uid → the user's last resolution and what it was made from. */
  private final Map<String, Map<String, Resolved>> resolved = new ConcurrentHashMap<>();

  private record Resolved(String stamp, UserResolver.Resolution resolution) {}

  /** The SftpUsers both controllers cache, held once ({@link SlimStore#sharing}). */
  private final SlimStore.Twins<SftpUser> userTwins = new SlimStore.Twins<>();
  /** The referenced Secrets both controllers cache, held once. */
  private final SlimStore.Twins<Secret> secretTwins = new SlimStore.Twins<>();

  SlimStore.Twins<SftpUser> userTwins() {
    return userTwins;
  }

  SlimStore.Twins<Secret> secretTwins() {
    return secretTwins;
  }

  /** The gateway reconciler's cache of the operator's own Secrets (the rendered shards). */
  private volatile SlimStore<Secret> ownSecrets;

  public UserDirectory(KubernetesClient client) {
    this.client = client;
  }

  /** Where the rendered user shards are read from (set by the gateway reconciler). */
  void useOwnSecrets(SlimStore<Secret> store) {
    this.ownSecrets = store;
  }

  /** One of the operator's own Secrets from the gateway controller's cache ({@code namespace/name}), or null. */
  Secret ownSecret(String key) {
    SlimStore<Secret> own = ownSecrets;
    return own == null ? null : own.get(key);
  }

  /**
   * login → hash of the users rendered for a gateway, from the cached shard Secrets (a GET per
   * shard only before the cache exists): read once per pass, and only when a plain password is
   * met that this process has not hashed yet.
   */
  public Map<String, String> renderedHashes(SftpGateway gw) {
    java.util.List<Secret> shards = new java.util.ArrayList<>();
    SlimStore<Secret> own = ownSecrets;
    StringBuilder versions = new StringBuilder();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      String name = Names.userShardSecret(gw, i);
      String ns = gw.getMetadata().getNamespace();
      Secret s = own != null ? own.get(ns + "/" + name) : client.secrets().inNamespace(ns).withName(name).get();
      shards.add(s);
      versions.append(s == null ? "-" : s.getMetadata().getResourceVersion()).append(',');
    }
    RenderedHashes known = renderedHashes.get(Names.gatewayKey(gw));
    if (known != null && known.versions().equals(versions.toString())) {
      return known.byLogin();
    }
    Map<String, String> out = SecretData.renderedHashes(shards);
    renderedHashes.put(Names.gatewayKey(gw), new RenderedHashes(versions.toString(), out));
    return out;
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
      if (stamp != null && !Reasons.PASSWORD_HASHING.equals(fresh.reason())) {
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
      /** Stubs met in this pass, and the namespaces listed in it (see {@link #upgradeStubs}). */
      int stubs;
      final java.util.Set<String> listed = new java.util.HashSet<>();

      @Override
      public Map<String, String> secret(String namespace, String name) {
        Secret s = secrets == null ? null : secrets.get(namespace + "/" + name);
        if (s != null && SlimStore.isStub(s) && ++stubs > GETS_PER_PASS && listed.add(namespace)) {
          upgradeStubs(secrets, namespace);
        }
        Secret read = read(secrets, namespace, name, () -> client.secrets().inNamespace(namespace).withName(name).get());
        return read == null ? null : SecretData.decode(read);
      }

      @Override
      public Map<String, String> configMap(String namespace, String name) {
        ConfigMap c = read(configMaps, namespace, name, () -> client.configMaps().inNamespace(namespace).withName(name).get());
        return c == null ? null : c.getData() == null ? Map.of() : c.getData();
      }
    };
  }

  /**
   * Stubs one pass reads with a GET each; past that, the namespace's Secrets are listed once
   * (paged) and every stub among them is upgraded. After a restart, or a bulk apply where each
   * Secret comes just before the SftpUser that names it, thousands of referenced Secrets can be
   * stubs: one GET each, one after the other, held a pass of 10,000 users for minutes.
   */
  static final int GETS_PER_PASS = 16;

  private void upgradeStubs(SlimStore<Secret> store, String namespace) {
    String next = null;
    do {
      io.fabric8.kubernetes.api.model.SecretList page = client.secrets().inNamespace(namespace)
          .list(new io.fabric8.kubernetes.api.model.ListOptionsBuilder().withLimit(500L).withContinue(next).build());
      for (Secret s : page.getItems()) {
        Secret cached = store.get(namespace + "/" + s.getMetadata().getName());
        if (cached != null && SlimStore.isStub(cached)) {
          store.upgrade(s);
        }
      }
      next = page.getMetadata() == null ? null : page.getMetadata().getContinue();
    } while (next != null && !next.isEmpty());
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

  /**
   * The hash of a user's plain password, or null while it is being made in the background (the
   * caller reconciles again shortly). An unchanged password keeps its hash: the one made before
   * in this process, or after a restart the rendered one, if it verifies.
   */
  String hash(SftpUser u, String plain, Supplier<Map<String, String>> existingHashes) {
    String key = u.getMetadata().getUid() != null ? u.getMetadata().getUid() : u.getMetadata().getNamespace() + "/" + u.getMetadata().getName();
    String digest = digest(key + "\u0000" + plain);
    String[] cached = hashes.get(key);
    if (cached != null && cached[0].equals(digest)) {
      return cached[1];
    }
    HashJob job = new HashJob(digest, plain, existingHashes.get().get(UserResolver.username(u)));
    if (hashing.put(key, job) == null) { // else the job queued or running picks this one up
      hashers.execute(() -> hashLatest(key));
    }
    return null;
  }

  /** Runs the user's latest job; if the password changed meanwhile, runs again for the new one. */
  private void hashLatest(String key) {
    HashJob job = hashing.get(key);
    if (job == null) {
      return;
    }
    String[] done = hashes.get(key);
    try {
      if (done == null || !done[0].equals(job.digest())) {
        // Keep the rendered hash if it is one of ours and still matches; never redo a tenant's
        // costlier hash (see PasswordHashes.isDefaultArgon2id).
        String h = job.existing() != null && PasswordHashes.isDefaultArgon2id(job.existing()) && PasswordHashes.verify(job.existing(), job.plain())
            ? job.existing() : PasswordHashes.hashArgon2id(job.plain());
        hashes.put(key, new String[] {job.digest(), h});
      }
    } catch (RuntimeException e) {
      hashing.remove(key, job); // the next pass queues it again
      throw e;
    }
    if (!hashing.remove(key, job)) {
      hashers.execute(() -> hashLatest(key));
    }
  }

  /** Jobs waiting or running (for tests). */
  int queuedHashes() {
    return hashing.size();
  }

  /** Whether passwords are being hashed (a reconciler that met one reconciles again soon). */
  public boolean hashing() {
    return !hashing.isEmpty();
  }

  static String digest(String s) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
