package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserStatus;
import dev.sftp.operator.render.Attachments;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.render.UserResolver;
import dev.sftp.operator.status.Conditions;
import dev.sftp.operator.status.Events;
import dev.sftp.operator.status.Reasons;
import dev.sftp.operator.status.Serving;
import dev.sftp.operator.status.UserStatuses;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ManagedFieldsEntry;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.javaoperatorsdk.operator.api.config.ControllerConfigurationOverrider;
import io.javaoperatorsdk.operator.api.config.informer.Informer;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.IndexerResourceCache;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import io.quarkiverse.operatorsdk.runtime.api.ConfigurableReconciler;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Reports whether an {@link SftpUser} can log in, from the same decisions the gateway reconciler
 * renders with ({@link Attachments}), and makes its generated password Secret.
 */
@ControllerConfiguration(name = "sftpuser", informer = @Informer(itemStore = SftpUserStore.class, informerListLimit = 500))
public class SftpUserReconciler implements Reconciler<SftpUser>, ConfigurableReconciler<SftpUser> {
  private final KubernetesClient client;
  private final UserDirectory directory;
  private volatile InformerEventSource<SftpGateway, SftpUser> gateways;
  private SlimStore<Secret> secrets;
  private SlimStore<ConfigMap> configMaps;
  private volatile InformerEventSource<Pod, SftpUser> pods;
  private final ServingView serving;
  /**
   * uid → the digest of the entry last judged served. Ready stays True while the entry is the
   * same, so that a list re-rendered for another user (a pod still loading it) does not flip the
   * users it did not change; lost on restart, when every user is judged afresh.
   */
  private final Map<String, Long> servedEntries = new java.util.concurrent.ConcurrentHashMap<>();
  private final UsageView usage = new UsageView();

  public SftpUserReconciler(KubernetesClient client, UserDirectory directory) {
    this.client = client;
    this.directory = directory;
    this.serving = new ServingView(directory);
  }

  /**
   * The slim user cache ({@link SftpUserStore}) serves one informer. Watching a list of namespaces
   * (the chart's watchNamespaces), JOSDK starts an informer per namespace and would share it, so
   * then each keeps fabric8's own store (users whole, with their managed fields).
   */
  @Override
  public void updateConfigurationFrom(ControllerConfigurationOverrider<SftpUser> overrider) {
    if (overrider.build().getInformerConfig().getNamespaces().size() > 1) {
      overrider.withItemStore(null);
    }
  }

  @Override
  public List<EventSource<?, SftpUser>> prepareEventSources(EventSourceContext<SftpUser> context) {
    List<EventSource<?, SftpUser>> out = new ArrayList<>();
    IndexerResourceCache<SftpUser> primary = context.getPrimaryCache();
    // One instance per user between this cache and the gateway controller's (not when several
    // namespaces are watched: then each informer keeps fabric8's own store).
    if (context.getControllerConfiguration().getInformerConfig().getItemStore() instanceof SftpUserStore store) {
      store.sharing(directory.userTwins());
    }
    // Indexes, so that no event or pass scans every user (10,000 users on a gateway).
    primary.addIndexers(Map.of(
        BY_GATEWAY, u -> Names.gatewayKey(u) == null ? List.of() : List.of(Names.gatewayKey(u)),
        BY_LOGIN, u -> Names.gatewayKey(u) == null ? List.of() : List.of(loginKey(u)),
        BY_SECRET, u -> UserResolver.referencedSecrets(u).stream().map(n -> u.getMetadata().getNamespace() + "/" + n).toList(),
        BY_CONFIGMAP, u -> UserResolver.referencedConfigMap(u) == null ? List.of() : List.of(u.getMetadata().getNamespace() + "/" + UserResolver.referencedConfigMap(u))));
    // A gateway appearing or going away, or a change of its spec or endpoint, concerns every user
    // that names it. Once its status says it rendered its current spec, only users not Ready are
    // woken: one may have been waiting for a conflicting login to go away (a deleted SftpUser
    // wakes nobody else). What they become is decided from specs alone, never from a status.
    gateways = new InformerEventSource<>(InformerEventSourceConfiguration.from(SftpGateway.class, SftpUser.class)
        .withName("gateways")
        // The mappers from a user to what it reads (here and below) are given so that JOSDK keeps
        // no index of its own from each user to them (a concurrent set per user and source, ~7 MiB
        // at 10,000 users); this controller reads them by key, not through the context.
        .withPrimaryToSecondaryMapper((SftpUser u) -> Names.gatewayKey(u) == null ? Set.of()
            : Set.of(new ResourceID(u.getSpec().gateway.name, Names.gatewayNamespace(u))))
        .withSecondaryToPrimaryMapper(gw -> {
          Long seen = gw.getStatus() == null ? null : gw.getStatus().observedGeneration;
          // A deleted gateway is out of the cache by the time its event is mapped.
          boolean gone = gateways == null || gateways.get(ResourceID.fromResource(gw)).isEmpty();
          boolean settled = !gone && seen != null && seen.equals(gw.getMetadata().getGeneration());
          return primary.byIndex(BY_GATEWAY, Names.gatewayKey(gw)).stream()
              .filter(u -> !settled || !UserStatuses.ready(u) || !Objects.equals(u.getStatus().connection, connection(u, gw)))
              .map(ResourceID::fromResource)
              .collect(Collectors.toSet());
        })
        .build(), context);
    out.add(gateways);
    // Referenced Secrets and ConfigMaps: a rotation takes effect without touching the SftpUser.
    secrets = new SlimStore<>(s -> !primary.byIndex(BY_SECRET, key(s)).isEmpty(), m -> { Secret s = new Secret(); s.setMetadata(m); return s; })
        .sharing(directory.secretTwins());
    // Also the gateways' serving ConfigMaps, whole: what each pod reports it serves.
    configMaps = new SlimStore<>(c -> Names.servingGatewayKey(c) != null || !primary.byIndex(BY_CONFIGMAP, key(c)).isEmpty(),
        m -> { ConfigMap c = new ConfigMap(); c.setMetadata(m); return c; });
    out.add(new InformerEventSource<>(secrets.forEachInformer(InformerEventSourceConfiguration.from(Secret.class, SftpUser.class)
        .withName("user-secrets")
        .withPrimaryToSecondaryMapper((SftpUser u) -> UserResolver.referencedSecrets(u).stream()
            .map(n -> new ResourceID(n, u.getMetadata().getNamespace())).collect(Collectors.toSet()))
        .withInformerListLimit(500L)
        .withSecondaryToPrimaryMapper(s -> ids(primary.byIndex(BY_SECRET, key(s))))
        .build()), context));
    out.add(new InformerEventSource<>(configMaps.forEachInformer(InformerEventSourceConfiguration.from(ConfigMap.class, SftpUser.class)
        .withName("user-configmaps")
        .withPrimaryToSecondaryMapper((SftpUser u) -> {
          Set<ResourceID> read = new java.util.HashSet<>();
          String referenced = UserResolver.referencedConfigMap(u);
          if (referenced != null) {
            read.add(new ResourceID(referenced, u.getMetadata().getNamespace()));
          }
          if (Names.gatewayKey(u) != null) {
            read.add(new ResourceID(Names.servingConfigMap(u.getSpec().gateway.name), Names.gatewayNamespace(u)));
          }
          return read;
        })
        .withInformerListLimit(500L)
        .withSecondaryToPrimaryMapper(c -> {
          String gw = Names.servingGatewayKey(c);
          if (gw == null) {
            return ids(primary.byIndex(BY_CONFIGMAP, key(c)));
          }
          // A pod reported what it serves: the users still waiting for it, and those whose
          // reported usage is not in their status yet.
          Set<ResourceID> woken = new java.util.HashSet<>(waiting(primary, gw));
          usage.of(c).forEach((login, reported) -> {
            for (SftpUser u : primary.byIndex(BY_LOGIN, gw + "/" + login)) {
              if (u.getStatus() == null || !reported.equals(u.getStatus().usage)) {
                woken.add(ResourceID.fromResource(u));
              }
            }
          });
          return woken;
        })
        .build()), context));
    // The gateways' pods: one becoming ready (or going) changes who must serve a user.
    pods = new InformerEventSource<>(new SlimStore<Pod>(p -> true, null, p -> p.setSpec(null)).forEachInformer(InformerEventSourceConfiguration.from(Pod.class, SftpUser.class)
        .withName("gateway-pods")
        .withPrimaryToSecondaryMapper((SftpUser u) -> pods == null || Names.gatewayKey(u) == null ? Set.of()
            : gatewayPods(Names.gatewayNamespace(u), u.getSpec().gateway.name).map(ResourceID::fromResource).collect(Collectors.toSet()))
        .withLabelSelector(GatewayWatches.MANAGED + "," + Names.GATEWAY_LABEL)
        .withOnUpdateFilter((now, before) -> ServingView.ready(now) != ServingView.ready(before))
        .withSecondaryToPrimaryMapper(p -> waiting(primary, p.getMetadata().getNamespace() + "/" + p.getMetadata().getLabels().get(Names.GATEWAY_LABEL)))
        .build()), context);
    out.add(pods);
    return out;
  }

  private static String key(HasMetadata o) {
    return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  /** The users of a gateway not (yet) Ready: only they can change when a pod or report does. */
  private static Set<ResourceID> waiting(IndexerResourceCache<SftpUser> primary, String gatewayKey) {
    return primary.byIndex(BY_GATEWAY, gatewayKey).stream().filter(u -> !UserStatuses.ready(u))
        .map(ResourceID::fromResource).collect(Collectors.toSet());
  }

  private static Set<ResourceID> ids(List<SftpUser> users) {
    return users.stream().map(ResourceID::fromResource).collect(Collectors.toSet());
  }

  @Override
  public UpdateControl<SftpUser> reconcile(SftpUser u, Context<SftpUser> ctx) {
    if (u.getSpec().password != null && Boolean.TRUE.equals(u.getSpec().password.generate)) {
      ensureGeneratedPassword(u);
    }
    String gwNs = Names.gatewayNamespace(u);
    SftpGateway gw = gateways.get(new ResourceID(u.getSpec().gateway.name, gwNs)).orElse(null);
    Attachments.Attachment mine;
    if (gw == null) {
      mine = new Attachments.Attachment(u, null, List.of(), Reasons.GATEWAY_NOT_FOUND,
          "SftpGateway " + gwNs + "/" + u.getSpec().gateway.name + " does not exist (spec.gateway)");
    } else {
      // Only users with the same login can conflict with this one: resolve just those (O(1) per
      // user instead of every user of the gateway each time).
      List<SftpUser> candidates = ctx.getPrimaryCache().byIndex(BY_LOGIN, loginKey(u));
      mine = Attachments.attach(gw, candidates, directory.inputs(secrets, configMaps, gw)).stream()
          .filter(a -> sameObject(a.user(), u))
          .findFirst().orElseThrow(() -> new IllegalStateException("the user is missing from its own login index"));
    }
    SftpUserStatus old = u.getStatus();
    List<Condition> oldConditions = old == null ? null : old.conditions;
    SftpUserStatus st = new SftpUserStatus();
    Long generation = u.getMetadata().getGeneration();
    st.observedGeneration = generation;
    Condition accepted = mine.served()
        ? Conditions.of(Conditions.ACCEPTED, true, Reasons.ATTACHED, "Rendered into gateway " + Names.gatewayKey(u)
            + " (" + ServingView.listFile(mine.entry().name()) + ")", generation)
        : Conditions.of(Conditions.ACCEPTED, false, mine.reason(), mine.message(), generation);
    Serving.Verdict verdict = null;
    Condition ready;
    if (!mine.served() || mine.reason() != null) {
      servedEntries.remove(uid(u));
      ready = Conditions.of(Conditions.READY, false, mine.reason(), mine.message(), generation);
    } else {
      long entry = ServingView.entryDigest(mine.entry());
      Condition was = Conditions.find(oldConditions, Conditions.READY);
      if (Long.valueOf(entry).equals(servedEntries.get(uid(u))) && was != null && "True".equals(was.getStatus())) {
        ready = Conditions.of(Conditions.READY, true, was.getReason(), was.getMessage(), generation);
      } else {
        verdict = Serving.judge(Names.gatewayKey(u), ServingView.listFile(mine.entry().name()),
            () -> serving.renderedDigest(gw, mine.entry()), ServingView.pods(gatewayPods(gw), configMaps.get(gwNs + "/" + Names.servingConfigMap(gw))));
        if (verdict.served()) {
          servedEntries.put(uid(u), entry);
          forgetDeleted(ctx);
        } else {
          servedEntries.remove(uid(u));
        }
        ready = Conditions.of(Conditions.READY, verdict.served(), verdict.served() ? Reasons.SERVED : verdict.reason(), verdict.message(), generation);
      }
    }
    Instant now = Instant.now();
    List<Condition> conditions = new ArrayList<>(List.of(ready, accepted));
    conditions.addAll(UserStatuses.progress(ready, generation));
    st.conditions = Conditions.merge(oldConditions, conditions, now);
    st.keyFingerprints = mine.fingerprints().isEmpty() ? null : mine.fingerprints();
    st.connection = connection(u, gw);
    st.usage = usage(u, gw, old);
    if (UserStatuses.failing(mine.reason()) && !mine.reason().equals(Conditions.reason(oldConditions, Conditions.ACCEPTED))) {
      Events.warning(client, u, mine.reason(), mine.message());
    }
    UpdateControl<SftpUser> control;
    if (UserStatuses.same(old, st)) {
      control = UpdateControl.noUpdate();
    } else {
      u.setStatus(st);
      control = patchStatus(u, ctx);
    }
    // Its password is being hashed in the background: look again shortly.
    if (Reasons.PASSWORD_HASHING.equals(mine.reason())) {
      return control.rescheduleAfter(HASH_POLL);
    }
    // Rendered but not loaded yet: a pod's report wakes the user, but the rendered list may
    // reach this cache after the report; look again, less often the longer it takes.
    if (verdict != null && (Reasons.RENDER_PENDING.equals(verdict.reason()) || Reasons.LOAD_PENDING.equals(verdict.reason()))) {
      Condition r = Conditions.find(st.conditions, Conditions.READY);
      long waited = r == null || r.getLastTransitionTime() == null ? 0 : java.time.Duration.between(Instant.parse(r.getLastTransitionTime()), now).toMillis();
      return control.rescheduleAfter(Math.max(SERVING_POLL_MIN.toMillis(), Math.min(SERVING_POLL_MAX.toMillis(), waited / 4)));
    }
    return control;
  }

  /**
   * Applies the status as JOSDK's {@code UpdateControl.patchStatus} does (server-side apply,
   * forced, the controller's field manager), and like it keeps the answer in JOSDK's cache until
   * the informer has seen it, so that the next reconciliation reads its own write. The answer is
   * kept slim, as the informer's copy is ({@link SftpUserStore#asCached}):
   * with its managed fields it is ~3 KiB more per user, and while 10,000 users turn Ready
   * thousands of answers wait for the informer (~12 MiB at the peak, docs/benchmarks.md).
   * Without server-side apply (the mock API server of the tests) JOSDK patches as before.
   */
  private static UpdateControl<SftpUser> patchStatus(SftpUser u, Context<SftpUser> ctx) {
    if (!ctx.getControllerConfiguration().getConfigurationService().useSSAToPatchPrimaryResource()) {
      return UpdateControl.patchStatus(u);
    }
    var apply = new PatchContext.Builder().withForce(true).withFieldManager(ctx.getControllerConfiguration().fieldManager())
        .withPatchType(PatchType.SERVER_SIDE_APPLY).build();
    List<ManagedFieldsEntry> managedFields = u.getMetadata().getManagedFields();
    u.getMetadata().setManagedFields(null);
    try {
      ctx.resourceOperations().resourcePatch(u, r -> SftpUserStore.asCached(ctx.getClient().resource(r).subresource("status").patch(apply)),
          ctx.eventSourceRetriever().getControllerEventSource());
    } finally {
      u.getMetadata().setManagedFields(managedFields);
    }
    return UpdateControl.noUpdate();
  }

  /**
   * The usage of the user's home as its gateway's pods last reported it; kept from the status
   * while no report mentions it (reports carry only what changed); none without a quota.
   */
  private SftpUserStatus.Usage usage(SftpUser u, SftpGateway gw, SftpUserStatus old) {
    var limits = u.getSpec().limits;
    if (gw == null || limits == null || limits.storage == null && limits.files == null) {
      return null;
    }
    SftpUserStatus.Usage reported = usage.of(configMaps.get(gw.getMetadata().getNamespace() + "/" + Names.servingConfigMap(gw)))
        .get(UserResolver.username(u));
    return reported != null ? reported : old == null ? null : old.usage;
  }

  /** How often a user waiting for its gateway to load it is looked at: first, and at most. */
  static final java.time.Duration SERVING_POLL_MIN = java.time.Duration.ofSeconds(1);
  static final java.time.Duration SERVING_POLL_MAX = java.time.Duration.ofSeconds(60);

  private List<Pod> gatewayPods(SftpGateway gw) {
    return gatewayPods(gw.getMetadata().getNamespace(), gw.getMetadata().getName()).toList();
  }

  private java.util.stream.Stream<Pod> gatewayPods(String namespace, String gatewayName) {
    return pods.list(namespace, p -> gatewayName.equals(p.getMetadata().getLabels().get(Names.GATEWAY_LABEL)));
  }

  /** Drops the entries of deleted users, now and then (amortised: one scan per 1,024 growths). */
  private void forgetDeleted(Context<SftpUser> ctx) {
    if (servedEntries.size() > FORGET_SLACK && servedEntries.size() % FORGET_SLACK == 0) {
      Set<String> live = ctx.getPrimaryCache().list().map(SftpUserReconciler::uid).collect(Collectors.toSet());
      servedEntries.keySet().retainAll(live);
    }
  }

  private static final int FORGET_SLACK = 1024;

  private static String uid(SftpUser u) {
    return u.getMetadata().getUid() != null ? u.getMetadata().getUid() : u.getMetadata().getNamespace() + "/" + u.getMetadata().getName();
  }

  private static boolean sameObject(SftpUser a, SftpUser b) {
    return a.getMetadata().getUid() != null && a.getMetadata().getUid().equals(b.getMetadata().getUid())
        || a.getMetadata().getName().equals(b.getMetadata().getName()) && a.getMetadata().getNamespace().equals(b.getMetadata().getNamespace());
  }

  /** How soon a user or gateway waiting for a password hash is reconciled again. */
  static final java.time.Duration HASH_POLL = java.time.Duration.ofMillis(500);

  static final String BY_GATEWAY = "gateway";
  static final String BY_LOGIN = "login";
  static final String BY_SECRET = "secret";
  static final String BY_CONFIGMAP = "configmap";

  private static String loginKey(SftpUser u) {
    return Names.gatewayKey(u) + "/" + UserResolver.username(u);
  }

  /** The command line a tenant connects with, from the gateway's endpoint. */
  static String connection(SftpUser u, SftpGateway gw) {
    if (gw == null || gw.getStatus() == null || gw.getStatus().endpoint == null) {
      return null;
    }
    String ep = gw.getStatus().endpoint;
    int colon = ep.lastIndexOf(':');
    return "sftp -P " + ep.substring(colon + 1) + " " + UserResolver.username(u) + "@" + ep.substring(0, colon);
  }

  private void ensureGeneratedPassword(SftpUser u) {
    String name = UserResolver.generatedPasswordSecret(u);
    if (directory.secret(secrets, u.getMetadata().getNamespace(), name) != null) {
      return;
    }
    client.resource(new SecretBuilder().withNewMetadata().withName(name).withNamespace(u.getMetadata().getNamespace())
        .withLabels(Map.of("app.kubernetes.io/managed-by", Names.MANAGED_BY))
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(u.getApiVersion()).withKind(u.getKind())
            .withName(u.getMetadata().getName()).withUid(u.getMetadata().getUid()).withController(true).build())
        .endMetadata()
        .withType("Opaque")
        .withStringData(UserResolver.generatedPasswordData(u))
        .build()).create();
  }
}
