package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.render.UserResolver;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What the gateway controller watches, and the caches it reads: its children (label-filtered),
 * its own Secrets (host keys it generated, the contract; whole), the SftpUsers that name a
 * gateway (in any namespace; their status is never read), and the Secrets and ConfigMaps those
 * users or a gateway's {@code spec.hostKeys} reference, mapped to the gateways through an index
 * of the user cache and held whole only while referenced ({@link SlimStore}).
 */
final class GatewayWatches {
  static final String MANAGED = "app.kubernetes.io/managed-by=" + Names.MANAGED_BY;
  static final String BY_SECRET = "secret";
  static final String BY_CONFIGMAP = "configmap";

  private final SlimStore<Secret> ownSecrets = SlimStore.whole();
  private volatile InformerEventSource<SftpUser, SftpGateway> users;
  private volatile SlimStore<Secret> referencedSecrets;
  private volatile SlimStore<ConfigMap> referencedConfigMaps;

  SlimStore<Secret> ownSecrets() {
    return ownSecrets;
  }

  SlimStore<Secret> referencedSecrets() {
    return referencedSecrets;
  }

  SlimStore<ConfigMap> referencedConfigMaps() {
    return referencedConfigMaps;
  }

  /**
   * The event sources of the gateway controller; {@code disruptionBudgets}: watch PDBs too. The
   * SftpUsers and referenced Secrets are held as one instance with the user controller's caches
   * ({@link UserDirectory#userTwins}).
   */
  List<EventSource<?, SftpGateway>> sources(EventSourceContext<SftpGateway> context, boolean disruptionBudgets, UserDirectory directory) {
    List<EventSource<?, SftpGateway>> sources = new ArrayList<>();
    List<Class<? extends HasMetadata>> owned = new ArrayList<>(List.of(Deployment.class, Service.class, PersistentVolumeClaim.class,
        ServiceAccount.class, Role.class, RoleBinding.class));
    if (disruptionBudgets) {
      owned.add(PodDisruptionBudget.class);
    }
    for (Class<? extends HasMetadata> type : owned) {
      sources.add(owned(type, context));
    }
    // The operator's own Secrets (host keys it generated, the contract), whole.
    sources.add(new InformerEventSource<>(ownSecrets.forEachInformer(InformerEventSourceConfiguration.from(Secret.class, SftpGateway.class)
        .withName("own-secrets")
        .withLabelSelector(MANAGED)
        .withSecondaryToPrimaryMapper(GatewayWatches::byGatewayLabel)
        .build()), context));
    // The SftpUsers that name a gateway, in any namespace; their status is not read here, but it is
    // kept: the instance is the user controller's (one object per user between both caches).
    users = new InformerEventSource<>(new SlimStore<SftpUser>(u -> true, null, SftpUserStore::share).sharing(directory.userTwins()).forEachInformer(InformerEventSourceConfiguration.from(SftpUser.class, SftpGateway.class)
        .withName("users")
        .withInformerListLimit(500L)
        .withOnUpdateFilter((now, before) -> !Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
            || !sameJson(context, now.getSpec(), before.getSpec()))
        .withSecondaryToPrimaryMapper(u -> {
          String key = Names.gatewayKey(u);
          return key == null ? Set.of() : Set.of(new ResourceID(u.getSpec().gateway.name, Names.gatewayNamespace(u)));
        })
        .build()), context);
    users.addIndexers(Map.of(
        BY_SECRET, u -> UserResolver.referencedSecrets(u).stream().map(n -> u.getMetadata().getNamespace() + "/" + n).toList(),
        BY_CONFIGMAP, u -> UserResolver.referencedConfigMap(u) == null ? List.of() : List.of(u.getMetadata().getNamespace() + "/" + UserResolver.referencedConfigMap(u))));
    sources.add(users);
    // Secrets and ConfigMaps a user (or a gateway's spec.hostKeys) references: a rotation
    // re-renders the gateways of the users that read it. Held whole only while referenced.
    referencedSecrets = new SlimStore<>(s -> !usersReferencing(BY_SECRET, s).isEmpty() || !gatewaysReadingHostKeys(context, s).isEmpty(),
        m -> { Secret s = new Secret(); s.setMetadata(m); return s; }).sharing(directory.secretTwins());
    sources.add(new InformerEventSource<>(referencedSecrets.forEachInformer(InformerEventSourceConfiguration.from(Secret.class, SftpGateway.class)
        .withName("referenced-secrets")
        .withInformerListLimit(500L)
        .withSecondaryToPrimaryMapper(s -> {
          Set<ResourceID> out = gatewaysOf(usersReferencing(BY_SECRET, s));
          out.addAll(gatewaysReadingHostKeys(context, s));
          return out;
        })
        .build()), context));
    // Also the gateways' serving ConfigMaps, whole (their stale keys are pruned).
    referencedConfigMaps = new SlimStore<>(c -> Names.servingGatewayKey(c) != null || !usersReferencing(BY_CONFIGMAP, c).isEmpty(),
        m -> { ConfigMap c = new ConfigMap(); c.setMetadata(m); return c; });
    sources.add(new InformerEventSource<>(referencedConfigMaps.forEachInformer(InformerEventSourceConfiguration.from(ConfigMap.class, SftpGateway.class)
        .withName("referenced-configmaps")
        .withInformerListLimit(500L)
        .withSecondaryToPrimaryMapper(c -> gatewaysOf(usersReferencing(BY_CONFIGMAP, c)))
        .build()), context));
    return sources;
  }

  private List<SftpUser> usersReferencing(String index, HasMetadata o) {
    InformerEventSource<SftpUser, SftpGateway> u = users;
    return u == null ? List.of() : u.byIndex(index, o.getMetadata().getNamespace() + "/" + o.getMetadata().getName());
  }

  private static Set<ResourceID> gatewaysOf(List<SftpUser> users) {
    return users.stream().filter(u -> Names.gatewayKey(u) != null)
        .map(u -> new ResourceID(u.getSpec().gateway.name, Names.gatewayNamespace(u))).collect(Collectors.toCollection(HashSet::new));
  }

  private static Set<ResourceID> gatewaysReadingHostKeys(EventSourceContext<SftpGateway> context, HasMetadata s) {
    return context.getPrimaryCache().list(s.getMetadata().getNamespace())
        .filter(gw -> gw.getSpec() != null && gw.getSpec().hostKeys != null && s.getMetadata().getName().equals(gw.getSpec().hostKeys.secretName))
        .map(ResourceID::fromResource).collect(Collectors.toSet());
  }

  private static Set<ResourceID> byGatewayLabel(HasMetadata r) {
    String gw = r.getMetadata().getLabels() == null ? null : r.getMetadata().getLabels().get(Names.GATEWAY_LABEL);
    return gw == null ? Set.of() : Set.of(new ResourceID(gw, r.getMetadata().getNamespace()));
  }

  private static boolean sameJson(EventSourceContext<?> context, Object a, Object b) {
    var json = context.getClient().getKubernetesSerialization();
    return Objects.equals(json.convertValue(a, com.fasterxml.jackson.databind.JsonNode.class), json.convertValue(b, com.fasterxml.jackson.databind.JsonNode.class));
  }

  private static <R extends HasMetadata> InformerEventSource<R, SftpGateway> owned(Class<R> type, EventSourceContext<SftpGateway> context) {
    return new InformerEventSource<>(SlimStore.<R>whole().forEachInformer(InformerEventSourceConfiguration.from(type, SftpGateway.class)
        .withName(type.getSimpleName().toLowerCase())
        .withLabelSelector(MANAGED)
        .withSecondaryToPrimaryMapper(GatewayWatches::byGatewayLabel)
        .build()), context);
  }
}
