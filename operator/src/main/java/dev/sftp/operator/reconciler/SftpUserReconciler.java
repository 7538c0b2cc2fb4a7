package dev.sftp.operator.reconciler;

import dev.sftp.contract.PasswordHashes;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserStatus;
import dev.sftp.operator.render.Attachments;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.render.UserResolver;
import dev.sftp.operator.status.Conditions;
import dev.sftp.operator.status.Events;
import dev.sftp.operator.status.Reasons;
import dev.sftp.operator.status.UserStatuses;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
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
public class SftpUserReconciler implements Reconciler<SftpUser> {
  private final KubernetesClient client;
  private final UserDirectory directory;
  private volatile InformerEventSource<SftpGateway, SftpUser> gateways;
  private SlimStore<Secret> secrets;
  private SlimStore<ConfigMap> configMaps;

  public SftpUserReconciler(KubernetesClient client, UserDirectory directory) {
    this.client = client;
    this.directory = directory;
  }

  @Override
  public List<EventSource<?, SftpUser>> prepareEventSources(EventSourceContext<SftpUser> context) {
    List<EventSource<?, SftpUser>> out = new ArrayList<>();
    IndexerResourceCache<SftpUser> primary = context.getPrimaryCache();
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
    secrets = new SlimStore<>(s -> !primary.byIndex(BY_SECRET, key(s)).isEmpty(), m -> { Secret s = new Secret(); s.setMetadata(m); return s; });
    configMaps = new SlimStore<>(c -> !primary.byIndex(BY_CONFIGMAP, key(c)).isEmpty(), m -> { ConfigMap c = new ConfigMap(); c.setMetadata(m); return c; });
    out.add(new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, SftpUser.class)
        .withName("user-secrets")
        .withItemStore(secrets)
        .withInformerListLimit(500L)
        .withSecondaryToPrimaryMapper(s -> ids(primary.byIndex(BY_SECRET, key(s))))
        .build(), context));
    out.add(new InformerEventSource<>(InformerEventSourceConfiguration.from(ConfigMap.class, SftpUser.class)
        .withName("user-configmaps")
        .withItemStore(configMaps)
        .withInformerListLimit(500L)
        .withSecondaryToPrimaryMapper(c -> ids(primary.byIndex(BY_CONFIGMAP, key(c))))
        .build(), context));
    return out;
  }

  private static String key(HasMetadata o) {
    return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
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
    SftpUserStatus st = new SftpUserStatus();
    Long generation = u.getMetadata().getGeneration();
    st.observedGeneration = generation;
    Condition ready = mine.reason() == null
        ? Conditions.of(Conditions.READY, true, Reasons.ATTACHED, "The user can log in", generation)
        : Conditions.of(Conditions.READY, false, mine.reason(), mine.message(), generation);
    st.conditions = Conditions.merge(old == null ? null : old.conditions, List.of(ready), Instant.now());
    st.keyFingerprints = mine.fingerprints().isEmpty() ? null : mine.fingerprints();
    st.connection = connection(u, gw);
    if (UserStatuses.failing(mine.reason()) && !mine.reason().equals(Conditions.reason(old == null ? null : old.conditions, Conditions.READY))) {
      Events.warning(client, u, mine.reason(), mine.message());
    }
    UpdateControl<SftpUser> control;
    if (UserStatuses.same(old, st)) {
      control = UpdateControl.noUpdate();
    } else {
      u.setStatus(st);
      control = UpdateControl.patchStatus(u);
    }
    // Its password is being hashed in the background: look again shortly.
    return Reasons.PASSWORD_HASHING.equals(mine.reason()) ? control.rescheduleAfter(HASH_POLL) : control;
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
        .withStringData(Map.of(UserResolver.GENERATED_PASSWORD_KEY, PasswordHashes.randomPassword(24), "username", UserResolver.username(u)))
        .build()).create();
  }
}
