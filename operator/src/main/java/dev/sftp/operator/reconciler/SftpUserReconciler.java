package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserStatus;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.render.UserResolver;
import dev.sftp.operator.status.Conditions;
import dev.sftp.operator.status.Events;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.OwnerReferenceBuilder;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.SecretBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;

/** Validates an {@link SftpUser} against its gateway and what it references, and reports it. */
@ControllerConfiguration(name = "sftpuser")
public class SftpUserReconciler implements Reconciler<SftpUser> {
  private final KubernetesClient client;
  private final UserDirectory directory;
  private volatile InformerEventSource<SftpGateway, SftpUser> gateways;

  public SftpUserReconciler(KubernetesClient client, UserDirectory directory) {
    this.client = client;
    this.directory = directory;
  }

  @Override
  public List<EventSource<?, SftpUser>> prepareEventSources(EventSourceContext<SftpUser> context) {
    List<EventSource<?, SftpUser>> out = new ArrayList<>();
    // Indexes, so that no event or pass scans every user (10,000 users on a gateway).
    context.getPrimaryCache().addIndexers(Map.of(
        BY_GATEWAY, u -> u.getSpec() == null || u.getSpec().gateway == null ? List.of() : List.of(gatewayKey(u)),
        BY_LOGIN, u -> u.getSpec() == null || u.getSpec().gateway == null ? List.of() : List.of(gatewayKey(u) + "/" + UserResolver.username(u)),
        BY_SECRET, u -> u.getSpec() == null ? List.of() : UserResolver.referencedSecrets(u).stream().map(n -> u.getMetadata().getNamespace() + "/" + n).toList(),
        BY_CONFIGMAP, u -> u.getSpec() == null || u.getSpec().authorizedKeysFrom == null || u.getSpec().authorizedKeysFrom.configMapKeyRef == null ? List.of()
            : List.of(u.getMetadata().getNamespace() + "/" + u.getSpec().authorizedKeysFrom.configMapKeyRef.name)));
    // A gateway appearing or going away, or a change of its spec or endpoint, concerns every user
    // that names it. A change of its status alone (users served or rejected) concerns only users
    // that are not Ready: one may have been waiting for a conflicting login to go away.
    gateways = new InformerEventSource<>(InformerEventSourceConfiguration.from(SftpGateway.class, SftpUser.class)
        .withName("gateways")
        .withSecondaryToPrimaryMapper(gw -> {
          Long seen = gw.getStatus() == null ? null : gw.getStatus().observedGeneration;
          // A deleted gateway is out of the cache by the time its event is mapped.
          boolean gone = gateways == null || gateways.get(ResourceID.fromResource(gw)).isEmpty();
          boolean settled = !gone && seen != null && seen.equals(gw.getMetadata().getGeneration());
          return context.getPrimaryCache().byIndex(BY_GATEWAY, gw.getMetadata().getNamespace() + "/" + gw.getMetadata().getName()).stream()
              .filter(u -> !settled || !ready(u) || !Objects.equals(u.getStatus().connection, connection(u, gw)))
              .map(ResourceID::fromResource)
              .collect(Collectors.toSet());
        })
        .build(), context);
    out.add(gateways);
    // Referenced Secrets and ConfigMaps: a rotation takes effect without touching the SftpUser.
    // Both reconcilers read them from these caches (UserDirectory), not with GETs.
    InformerEventSource<Secret, SftpUser> secrets = new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, SftpUser.class)
        .withName("user-secrets")
        .withSecondaryToPrimaryMapper(s -> context.getPrimaryCache().byIndex(BY_SECRET, s.getMetadata().getNamespace() + "/" + s.getMetadata().getName()).stream()
            .map(ResourceID::fromResource)
            .collect(Collectors.toSet()))
        .build(), context);
    InformerEventSource<ConfigMap, SftpUser> configMaps = new InformerEventSource<>(InformerEventSourceConfiguration.from(ConfigMap.class, SftpUser.class)
        .withName("user-configmaps")
        .withSecondaryToPrimaryMapper(c -> context.getPrimaryCache().byIndex(BY_CONFIGMAP, c.getMetadata().getNamespace() + "/" + c.getMetadata().getName()).stream()
            .map(ResourceID::fromResource)
            .collect(Collectors.toSet()))
        .build(), context);
    out.add(secrets);
    out.add(configMaps);
    directory.useCaches(new UserDirectory.Caches(secrets, configMaps));
    return out;
  }

  @Override
  public UpdateControl<SftpUser> reconcile(SftpUser u, Context<SftpUser> ctx) {
    String ns = u.getMetadata().getNamespace();
    if (u.getSpec().password != null && Boolean.TRUE.equals(u.getSpec().password.generate)) {
      ensureGeneratedPassword(u);
    }
    String gwNs = u.getSpec().gateway.namespace == null ? ns : u.getSpec().gateway.namespace;
    SftpGateway gw = gateways.get(new ResourceID(u.getSpec().gateway.name, gwNs)).orElse(null);
    String reason;
    String message;
    UserResolver.Resolution resolution = null;
    if (gw == null) {
      reason = "GatewayNotFound";
      message = "SftpGateway " + gwNs + "/" + u.getSpec().gateway.name + " does not exist (spec.gateway)";
    } else {
      // Only users with the same login can conflict with this one: resolve just those (O(1) per
      // user instead of every user of the gateway each time).
      List<SftpUser> candidates = ctx.getPrimaryCache().byIndex(BY_LOGIN, gatewayKey(u) + "/" + UserResolver.username(u));
      UserDirectory.Attachment mine = directory.attach(gw, candidates, () -> directory.existingHashes(gw)).stream()
          .filter(a -> a.user().getMetadata().getUid() != null && a.user().getMetadata().getUid().equals(u.getMetadata().getUid())
              || a.user().getMetadata().getName().equals(u.getMetadata().getName()) && a.user().getMetadata().getNamespace().equals(ns))
          .findFirst().orElse(null);
      reason = mine == null ? "GatewayNotFound" : mine.reason();
      message = mine == null ? "not attached" : mine.message();
      resolution = mine == null ? null : mine.resolution();
    }
    SftpUserStatus old = u.getStatus();
    SftpUserStatus st = new SftpUserStatus();
    Long generation = u.getMetadata().getGeneration();
    st.observedGeneration = generation;
    Condition ready = reason == null
        ? Conditions.of(Conditions.READY, true, "Attached", "The user can log in", generation)
        : Conditions.of(Conditions.READY, false, reason, message, generation);
    st.conditions = Conditions.merge(old == null ? null : old.conditions, List.of(ready), Instant.now());
    st.keyFingerprints = resolution == null || resolution.fingerprints().isEmpty() ? null : resolution.fingerprints();
    st.connection = connection(u, gw);
    List<String> observed = new ArrayList<>();
    for (String name : UserResolver.referencedSecrets(u)) {
      Secret s = directory.secret(ns, name);
      observed.add(name + "@" + (s == null ? "missing" : s.getMetadata().getResourceVersion()));
    }
    st.observedSecrets = observed.isEmpty() ? null : observed;
    boolean failing = reason != null && !reason.equals("Disabled") && !reason.equals("Expired");
    String oldReason = Conditions.reason(old == null ? null : old.conditions, Conditions.READY);
    if (failing && !reason.equals(oldReason)) {
      Events.warning(client, u, reason, message);
    }
    if (old != null && Objects.equals(old.observedGeneration, st.observedGeneration) && Conditions.sameIgnoringTime(old.conditions, st.conditions)
        && Objects.equals(old.keyFingerprints, st.keyFingerprints) && Objects.equals(old.connection, st.connection)
        && Objects.equals(old.observedSecrets, st.observedSecrets)) {
      return UpdateControl.noUpdate();
    }
    u.setStatus(st);
    return UpdateControl.patchStatus(u);
  }

  static final String BY_GATEWAY = "gateway";
  static final String BY_LOGIN = "login";
  static final String BY_SECRET = "secret";
  static final String BY_CONFIGMAP = "configmap";

  /** namespace/name of the gateway a user names. */
  static String gatewayKey(SftpUser u) {
    String ns = u.getSpec().gateway.namespace == null ? u.getMetadata().getNamespace() : u.getSpec().gateway.namespace;
    return ns + "/" + u.getSpec().gateway.name;
  }

  static boolean ready(SftpUser u) {
    return u.getStatus() != null && u.getStatus().conditions != null
        && u.getStatus().conditions.stream().anyMatch(c -> c.getType().equals(Conditions.READY) && "True".equals(c.getStatus()));
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
    if (directory.secret(u.getMetadata().getNamespace(), name) != null) {
      return;
    }
    String alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    SecureRandom r = new SecureRandom();
    StringBuilder pw = new StringBuilder();
    for (int i = 0; i < 24; i++) {
      pw.append(alphabet.charAt(r.nextInt(alphabet.length())));
    }
    client.resource(new SecretBuilder().withNewMetadata().withName(name).withNamespace(u.getMetadata().getNamespace())
        .withLabels(Map.of("app.kubernetes.io/managed-by", Names.MANAGED_BY))
        .withOwnerReferences(new OwnerReferenceBuilder().withApiVersion(u.getApiVersion()).withKind(u.getKind())
            .withName(u.getMetadata().getName()).withUid(u.getMetadata().getUid()).withController(true).build())
        .endMetadata()
        .withType("Opaque")
        .withStringData(Map.of(UserResolver.GENERATED_PASSWORD_KEY, pw.toString(), "username", UserResolver.username(u)))
        .build()).create();
  }

}
