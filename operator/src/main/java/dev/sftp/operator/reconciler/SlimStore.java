package dev.sftp.operator.reconciler;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectMeta;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.informers.cache.Cache;
import io.fabric8.kubernetes.client.informers.cache.ItemStore;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerConfiguration;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.processing.GroupVersionKind;
import io.javaoperatorsdk.operator.processing.event.source.PrimaryToSecondaryMapper;
import io.javaoperatorsdk.operator.processing.event.source.SecondaryToPrimaryMapper;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * An informer cache that holds only what the operator reads. Every object loses its {@code
 * managedFields} and {@code kubectl.kubernetes.io/last-applied-configuration} (together often
 * larger than the object, and never read here). Objects the operator does not need whole (a
 * tenant Secret no SftpUser references) are kept as stubs: name, namespace, uid and
 * resourceVersion, so that the informer still sees every change and a reference made later is
 * read with one GET ({@link #upgrade}). Without this, the operator held every Secret of the
 * cluster twice (docs/benchmarks.md, operator memory).
 *
 * <p>Each informer gets a store of its own ({@link #forEachInformer}); this object reads across
 * them. JOSDK starts one informer per watched namespace when the operator watches a list of them
 * (the chart's {@code watchNamespaces}) and hands each the configured store: fabric8 drops from
 * an informer's store, with a delete event, whatever its namespace's (re)list did not return, so
 * one store shared by two namespaces lost the other namespace's objects (NamespacedOperatorIT).
 */
public class SlimStore<R extends HasMetadata> {
  static final String STUB = "sftp.dev/cache-stub";
  static final String LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

  private final List<Items<R>> parts = new CopyOnWriteArrayList<>();
  private final Predicate<R> whole;
  private final Function<ObjectMeta, R> stub;
  private final Consumer<R> drop;
  private volatile Twins<R> twins;

  /**
   * @param whole which objects to keep whole (the others become stubs); evaluated on each put
   * @param stub makes an empty object of the type around the given metadata
   */
  public SlimStore(Predicate<R> whole, Function<ObjectMeta, R> stub) {
    this(whole, stub, r -> { });
  }

  /** As above; {@code drop} removes, in place, more parts that this cache's readers never read. */
  public SlimStore(Predicate<R> whole, Function<ObjectMeta, R> stub, Consumer<R> drop) {
    this.whole = whole;
    this.stub = stub;
    this.drop = drop;
  }

  /** A store that keeps every object whole, without managed fields. */
  public static <R extends HasMetadata> SlimStore<R> whole() {
    return new SlimStore<>(r -> true, null);
  }

  /** A new store in this cache, for one informer. */
  public ItemStore<R> informerStore() {
    Items<R> part = new Items<>(whole, stub, drop);
    part.twin = key -> twins == null ? null : twins.find(this, key);
    parts.add(part);
    return part;
  }

  /**
   * Holds the objects it keeps whole as one instance with the other caches of {@code t}: an object
   * one of them already holds at the same uid and resourceVersion is kept, not the copy this
   * informer deserialized. The caches must trim objects alike ({@code drop}) and never change
   * what they hold. Returns this.
   */
  public SlimStore<R> sharing(Twins<R> t) {
    t.join(this, this::get);
    twins = t;
    return this;
  }

  /**
   * The event source configuration {@code c}, but with a store of this cache for each informer
   * JOSDK starts for it (it asks the configuration once per informer, one per watched namespace).
   */
  public InformerEventSourceConfiguration<R> forEachInformer(InformerEventSourceConfiguration<R> c) {
    InformerConfiguration<R> ic = c.getInformerConfig();
    InformerConfiguration<R> perInformer = new InformerConfiguration<>(ic.getResourceClass(), ic.getName(), ic.getNamespaces(),
        ic.getFollowControllerNamespaceChanges(), ic.getLabelSelector(), ic.getOnAddFilter(), ic.getOnUpdateFilter(), ic.getOnDeleteFilter(),
        ic.getGenericFilter(), null, ic.getInformerListLimit(), ic.getFieldSelector(), ic.isComparableResourceVersions(),
        ic.getGhostResourceCacheCheckInterval()) {
      @Override
      public ItemStore<R> getItemStore() {
        return informerStore();
      }
    };
    return new InformerEventSourceConfiguration<>() {
      @Override
      public InformerConfiguration<R> getInformerConfig() {
        return perInformer;
      }

      @Override
      public SecondaryToPrimaryMapper<R> getSecondaryToPrimaryMapper() {
        return c.getSecondaryToPrimaryMapper();
      }

      @Override
      public <P extends HasMetadata> PrimaryToSecondaryMapper<P> getPrimaryToSecondaryMapper() {
        return c.getPrimaryToSecondaryMapper();
      }

      @Override
      public Optional<GroupVersionKind> getGroupVersionKind() {
        return c.getGroupVersionKind();
      }

      @Override
      public Optional<KubernetesClient> getKubernetesClient() {
        return c.getKubernetesClient();
      }
    };
  }

  /** The object under the key ({@code namespace/name}), from whichever informer holds it. */
  public R get(String key) {
    for (Items<R> part : parts) {
      R r = part.get(key);
      if (r != null) {
        return r;
      }
    }
    return null;
  }

  /** Whether a cached object is a stub, to be read whole from the API server. */
  public static boolean isStub(HasMetadata r) {
    return r.getMetadata().getAnnotations() != null && r.getMetadata().getAnnotations().containsKey(STUB);
  }

  /**
   * Replaces a stub by the whole object read from the API server, if the stub still stands for
   * that version (a newer one from the informer wins). Returns what the cache holds now.
   */
  public R upgrade(R full) {
    String key = Cache.metaNamespaceKeyFunc(full);
    for (Items<R> part : parts) {
      R now = part.upgrade(key, full);
      if (now != null) {
        return now;
      }
    }
    return null;
  }

  /**
   * Strings that repeat from object to object (namespaces, condition types and reasons, a
   * gateway's name): one instance for all the cached objects that hold them, not one each. (The
   * JVM's string deduplication shares their bytes, not the String objects.) Bounded in count and
   * length, so that what tenants write cannot make it grow without end.
   */
  private static final ConcurrentHashMap<String, String> SHARED = new ConcurrentHashMap<>();
  private static final int SHARED_MAX = 20_000;

  static String shared(String s) {
    if (s == null || s.length() > 256) {
      return s;
    }
    String c = SHARED.get(s);
    if (c != null || SHARED.size() >= SHARED_MAX) {
      return c != null ? c : s;
    }
    c = SHARED.putIfAbsent(s, s);
    return c == null ? s : c;
  }

  /**
   * Drops what is never read, in place: the informer hands each object to the store first. The
   * empty maps and lists fabric8 gives every object (labels, annotations, owner references,
   * finalizers, unknown fields; a Secret's {@code stringData}) become the JDK's shared empty ones:
   * six to nine per object, a tenth of the heap at 10,000 users (docs/benchmarks.md). Read-only,
   * as everything a cache holds; JOSDK reconciles a copy.
   */
  static <R extends HasMetadata> R trim(R obj) {
    ObjectMeta m = obj.getMetadata();
    m.setManagedFields(null);
    m.setNamespace(shared(m.getNamespace()));
    if (obj instanceof io.fabric8.kubernetes.api.model.Secret secret) {
      secret.setType(shared(secret.getType()));
      secret.setStringData(empty(secret.getStringData()));
      secret.setAdditionalProperties(empty(secret.getAdditionalProperties()));
    } else if (obj instanceof io.fabric8.kubernetes.api.model.ConfigMap cm) {
      cm.setBinaryData(empty(cm.getBinaryData()));
      cm.setAdditionalProperties(empty(cm.getAdditionalProperties()));
    }
    if (m.getAnnotations() != null && m.getAnnotations().containsKey(LAST_APPLIED)) {
      Map<String, String> a = new HashMap<>(m.getAnnotations());
      a.remove(LAST_APPLIED);
      m.setAnnotations(a.isEmpty() ? null : a);
    }
    m.setAnnotations(empty(m.getAnnotations()));
    m.setLabels(empty(m.getLabels()));
    m.setAdditionalProperties(empty(m.getAdditionalProperties()));
    m.setFinalizers(empty(m.getFinalizers()));
    m.setOwnerReferences(empty(m.getOwnerReferences()));
    return obj;
  }

  /** The shared empty map for an empty one; null and non-empty maps as they are. */
  static <K, V> Map<K, V> empty(Map<K, V> m) {
    return m != null && m.isEmpty() ? Map.of() : m;
  }

  static <T> List<T> empty(List<T> l) {
    return l != null && l.isEmpty() ? List.of() : l;
  }

  /**
   * Caches that hold the same objects (the two controllers' SftpUsers, the referenced Secrets both
   * read): each whole object is held once between them ({@link #sharing}). One per operator, not
   * process-wide: operators in one JVM (the tests) never share objects.
   */
  public static final class Twins<R extends HasMetadata> {
    private final List<Map.Entry<Object, Function<String, R>>> members = new CopyOnWriteArrayList<>();

    void join(Object cache, Function<String, R> get) {
      members.add(Map.entry(cache, get));
    }

    /** A whole object another member holds under the key, or null. */
    R find(Object self, String key) {
      for (Map.Entry<Object, Function<String, R>> m : members) {
        if (m.getKey() != self) {
          R r = m.getValue().apply(key);
          if (r != null && !isStub(r)) {
            return r;
          }
        }
      }
      return null;
    }
  }

  /** One informer's store. */
  public static class Items<R extends HasMetadata> implements ItemStore<R> {
    private final Map<String, R> items = new ConcurrentHashMap<>();
    private final Predicate<R> whole;
    private final Function<ObjectMeta, R> stub;
    private final Consumer<R> drop;
    private volatile Function<String, R> twin = key -> null;

    protected Items(Predicate<R> whole, Function<ObjectMeta, R> stub, Consumer<R> drop) {
      this.whole = whole;
      this.stub = stub;
      this.drop = drop;
    }

    @Override
    public String getKey(R obj) {
      return Cache.metaNamespaceKeyFunc(obj);
    }

    /** As {@link SlimStore#sharing}, for a store that serves one informer on its own. */
    public void sharing(Twins<R> t) {
      t.join(this, this::get);
      twin = key -> t.find(this, key);
    }

    @Override
    public R put(String key, R obj) {
      return items.put(key, whole.test(obj) ? slim(key, obj) : stubOf(obj));
    }

    @Override
    public R remove(String key) {
      return items.remove(key);
    }

    @Override
    public Stream<String> keySet() {
      return items.keySet().stream();
    }

    @Override
    public Stream<R> values() {
      return items.values().stream();
    }

    @Override
    public int size() {
      return items.size();
    }

    @Override
    public R get(String key) {
      return items.get(key);
    }

    R upgrade(String key, R full) {
      return items.computeIfPresent(key, (k, cur) -> isStub(cur)
          && Objects.equals(cur.getMetadata().getResourceVersion(), full.getMetadata().getResourceVersion()) ? slim(k, full) : cur);
    }

    /**
     * A whole object as this store keeps it: the instance a twin cache holds at the same uid and
     * version, or this one trimmed and without what {@code drop} removes.
     */
    private R slim(String key, R obj) {
      R t = twin.apply(key);
      if (t != null && Objects.equals(t.getMetadata().getUid(), obj.getMetadata().getUid())
          && Objects.equals(t.getMetadata().getResourceVersion(), obj.getMetadata().getResourceVersion())) {
        return t;
      }
      drop.accept(trim(obj));
      return obj;
    }

    private R stubOf(R obj) {
      ObjectMeta m = obj.getMetadata();
      return stub.apply(new ObjectMetaBuilder().withName(m.getName()).withNamespace(m.getNamespace()).withUid(m.getUid())
          .withResourceVersion(m.getResourceVersion()).withAnnotations(Map.of(STUB, "true")).build());
    }
  }
}
