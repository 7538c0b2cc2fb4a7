package dev.sftp.operator.reconciler;

import dev.sftp.contract.ServerSettings;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewayStatus;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.GatewayRender;
import dev.sftp.operator.render.HostKeyMaterial;
import dev.sftp.operator.render.HostKeyMaterial.ParsedKey;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.status.Conditions;
import dev.sftp.operator.status.Events;
import io.fabric8.kubernetes.api.model.Condition;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.Secret;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import io.fabric8.kubernetes.api.model.rbac.Role;
import io.fabric8.kubernetes.api.model.rbac.RoleBinding;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.javaoperatorsdk.operator.api.config.informer.InformerEventSourceConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.Context;
import io.javaoperatorsdk.operator.api.reconciler.ControllerConfiguration;
import io.javaoperatorsdk.operator.api.reconciler.ErrorStatusUpdateControl;
import io.javaoperatorsdk.operator.api.reconciler.EventSourceContext;
import io.javaoperatorsdk.operator.api.reconciler.Reconciler;
import io.javaoperatorsdk.operator.api.reconciler.UpdateControl;
import io.javaoperatorsdk.operator.processing.event.ResourceID;
import io.javaoperatorsdk.operator.processing.event.source.EventSource;
import io.javaoperatorsdk.operator.processing.event.source.informer.InformerEventSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Turns an {@link SftpGateway} into its host key Secret, volume claim, rendered contract Secret,
 * ServiceAccount, Deployment, Service and PodDisruptionBudget, and reports what it sees.
 */
@ControllerConfiguration(name = "sftpgateway")
public class SftpGatewayReconciler implements Reconciler<SftpGateway> {
  private static final Logger LOG = Logger.getLogger(SftpGatewayReconciler.class);
  static final String MANAGED = "app.kubernetes.io/managed-by=" + Names.MANAGED_BY;

  private final KubernetesClient client;
  private final Applier applier;
  private final String defaultImage;
  private final UserDirectory directory;
  private final java.util.concurrent.atomic.AtomicLong passes = new java.util.concurrent.atomic.AtomicLong();

  public SftpGatewayReconciler(KubernetesClient client, UserDirectory directory,
      @ConfigProperty(name = "sftp.operator.server-side-apply", defaultValue = "true") boolean ssa,
      @ConfigProperty(name = "sftp.operator.gateway-image") String defaultImage) {
    this.client = client;
    this.directory = directory;
    this.applier = new Applier(client, ssa);
    this.defaultImage = defaultImage;
  }

  @Override
  public List<EventSource<?, SftpGateway>> prepareEventSources(EventSourceContext<SftpGateway> context) {
    List<EventSource<?, SftpGateway>> sources = new ArrayList<>();
    for (Class<? extends HasMetadata> type : List.of(Deployment.class, Service.class, PersistentVolumeClaim.class, ServiceAccount.class, Role.class, RoleBinding.class, PodDisruptionBudget.class)) {
      sources.add(owned(type, context));
    }
    // Secrets: the operator's own (labelled) and the user's host key Secrets (referenced by name).
    sources.add(new InformerEventSource<>(InformerEventSourceConfiguration.from(Secret.class, SftpGateway.class)
        .withName("secrets")
        .withSecondaryToPrimaryMapper(s -> {
          String ns = s.getMetadata().getNamespace();
          return context.getPrimaryCache().list(ns)
              .filter(gw -> s.getMetadata().getName().equals(Names.hostKeySecret(gw)) || s.getMetadata().getName().equals(Names.configSecret(gw))
                  || s.getMetadata().getName().startsWith(gw.getMetadata().getName() + "-users-"))
              .map(ResourceID::fromResource)
              .collect(Collectors.toSet());
        })
        .build(), context));
    // Users, in any namespace, that name this gateway; their status matters only for the Secrets
    // they observed (a rotation), not for their conditions, which this reconciler computes.
    sources.add(new InformerEventSource<>(InformerEventSourceConfiguration.from(SftpUser.class, SftpGateway.class)
        .withName("users")
        .withOnUpdateFilter((now, before) -> !java.util.Objects.equals(now.getMetadata().getGeneration(), before.getMetadata().getGeneration())
            || !sameJson(context, now.getSpec(), before.getSpec())
            || !java.util.Objects.equals(now.getStatus() == null ? null : now.getStatus().observedSecrets, before.getStatus() == null ? null : before.getStatus().observedSecrets))
        .withSecondaryToPrimaryMapper(u -> u.getSpec() == null || u.getSpec().gateway == null ? Set.of()
            : Set.of(new ResourceID(u.getSpec().gateway.name, u.getSpec().gateway.namespace == null ? u.getMetadata().getNamespace() : u.getSpec().gateway.namespace)))
        .build(), context));
    return sources;
  }

  static boolean sameJson(EventSourceContext<?> context, Object a, Object b) {
    var json = context.getClient().getKubernetesSerialization();
    return java.util.Objects.equals(json.convertValue(a, com.fasterxml.jackson.databind.JsonNode.class), json.convertValue(b, com.fasterxml.jackson.databind.JsonNode.class));
  }

  private static <R extends HasMetadata> InformerEventSource<R, SftpGateway> owned(Class<R> type, EventSourceContext<SftpGateway> context) {
    return new InformerEventSource<>(InformerEventSourceConfiguration.from(type, SftpGateway.class)
        .withName(type.getSimpleName().toLowerCase())
        .withLabelSelector(MANAGED)
        .withSecondaryToPrimaryMapper(r -> {
          String gw = r.getMetadata().getLabels() == null ? null : r.getMetadata().getLabels().get(Names.GATEWAY_LABEL);
          return gw == null ? Set.of() : Set.of(new ResourceID(gw, r.getMetadata().getNamespace()));
        })
        .build(), context);
  }

  private <R extends HasMetadata> R cached(Context<SftpGateway> ctx, Class<R> type, String name, String ns) {
    String source = type == Secret.class ? "secrets" : type.getSimpleName().toLowerCase();
    return ctx.eventSourceRetriever().getEventSourceFor(type, source) instanceof InformerEventSource<?, ?> ies
        ? type.cast(((InformerEventSource<R, SftpGateway>) ies).get(new ResourceID(name, ns)).orElse(null))
        : null;
  }

  /** How many reconciliations have started (for tests and diagnostics). */
  public long passes() {
    return passes.get();
  }

  @Override
  public UpdateControl<SftpGateway> reconcile(SftpGateway gw, Context<SftpGateway> ctx) {
    passes.incrementAndGet();
    String ns = gw.getMetadata().getNamespace();
    String id = ns + "/" + gw.getMetadata().getName();
    Outcome outcome = new Outcome();

    // 1. Host keys.
    Secret hostKeys = cached(ctx, Secret.class, Names.hostKeySecret(gw), ns);
    boolean userSecret = gw.getSpec().hostKeys != null && gw.getSpec().hostKeys.secretName != null;
    if (hostKeys == null && !userSecret) {
      hostKeys = GatewayRender.hostKeySecret(gw, HostKeyMaterial.generate());
      client.resource(hostKeys).create();
      LOG.infof("%s: generated host keys in Secret %s", id, Names.hostKeySecret(gw));
    }
    List<ParsedKey> keys = null;
    if (hostKeys == null) {
      outcome.fail("HostKeySecretNotFound", "Secret " + Names.hostKeySecret(gw) + " named in spec.hostKeys.secretName does not exist in namespace " + ns + ": create it with private host keys (for example ssh_host_ed25519_key)", true);
    } else {
      try {
        keys = HostKeyMaterial.parse(hostKeys.getData());
      } catch (IllegalArgumentException e) {
        outcome.fail("HostKeySecretInvalid", "host key Secret " + Names.hostKeySecret(gw) + ": " + e.getMessage(), true);
      }
    }

    // 2. Storage.
    int replicas = GatewayRender.replicas(gw);
    boolean existing = gw.getSpec().storage != null && gw.getSpec().storage.existingClaim != null;
    PersistentVolumeClaim claim = existing
        ? client.persistentVolumeClaims().inNamespace(ns).withName(Names.claim(gw)).get()
        : cached(ctx, PersistentVolumeClaim.class, Names.claim(gw), ns);
    List<String> modes = existing && claim != null && claim.getSpec() != null ? claim.getSpec().getAccessModes() : GatewayRender.accessModes(gw);
    if (replicas > 1 && (modes == null || !modes.contains("ReadWriteMany"))) {
      outcome.fail("StorageAccessModeInvalid", replicas + " replicas need a ReadWriteMany volume, but the claim is " + modes + ": set spec.storage.accessModes to [ReadWriteMany] on a storage class that supports it, or use 1 replica", true);
    }
    if (existing && claim == null) {
      outcome.fail("StorageClaimNotFound", "PersistentVolumeClaim " + Names.claim(gw) + " named in spec.storage.existingClaim does not exist in namespace " + ns, true);
    }

    if (outcome.stalled) {
      return finish(gw, ctx, outcome, keys, null);
    }

    // 3. Everything else, rendered and applied where it differs.
    if (!existing) {
      applier.apply(GatewayRender.claim(gw), claim);
    }
    List<String> keyFiles = GatewayRender.hostKeyFiles(hostKeys.getData());
    ServerSettings server = GatewayRender.serverSettings(gw, keyFiles);
    Secret currentConfig = cached(ctx, Secret.class, Names.configSecret(gw), ns);
    List<Secret> currentShards = new ArrayList<>();
    java.util.Map<String, String> existingHashes = new java.util.HashMap<>();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      Secret shard = cached(ctx, Secret.class, Names.userShardSecret(gw, i), ns);
      currentShards.add(shard);
      existingHashes.putAll(UserDirectory.existingHashes(shard, Names.userShardFile(i)));
    }
    List<UserDirectory.Attachment> attachments = directory.attach(gw, ctx.getSecondaryResources(SftpUser.class), existingHashes);
    List<dev.sftp.contract.UserEntry> users = UserDirectory.served(attachments);
    outcome.users = users.size();
    outcome.rejected = (int) attachments.stream().filter(a -> !a.served()).count();
    applier.apply(GatewayRender.configSecret(gw, server, List.of()), currentConfig);
    List<Secret> shards = GatewayRender.userShards(gw, users);
    for (int i = 0; i < shards.size(); i++) {
      applier.apply(shards.get(i), currentShards.get(i));
    }
    applier.apply(GatewayRender.serviceAccount(gw), cached(ctx, ServiceAccount.class, Names.serviceAccount(gw), ns));
    applier.apply(GatewayRender.gatewayRole(gw), cached(ctx, Role.class, Names.serviceAccount(gw), ns));
    applier.apply(GatewayRender.gatewayRoleBinding(gw), cached(ctx, RoleBinding.class, Names.serviceAccount(gw), ns));
    String image = gw.getSpec().image != null ? gw.getSpec().image : defaultImage;
    Deployment deployment = cached(ctx, Deployment.class, Names.deployment(gw), ns);
    applier.apply(GatewayRender.deployment(gw, image, GatewayRender.configHash(server, hostKeys.getData())), deployment);
    Service service = cached(ctx, Service.class, Names.service(gw), ns);
    applier.apply(GatewayRender.service(gw), service);
    PodDisruptionBudget pdb = cached(ctx, PodDisruptionBudget.class, Names.pdb(gw), ns);
    if (replicas > 1) {
      applier.apply(GatewayRender.podDisruptionBudget(gw), pdb);
    } else if (pdb != null) {
      client.resource(pdb).delete();
    }

    // 4. Observe.
    if (claim != null && claim.getStatus() != null && "Pending".equals(claim.getStatus().getPhase())) {
      outcome.progress("StorageClaimPending", "PersistentVolumeClaim " + Names.claim(gw) + " is Pending: check that its storage class can provision " + GatewayRender.accessModes(gw) + " volumes");
    }
    if (deployment == null || !available(deployment, replicas)) {
      outcome.progress(deployment == null ? "DeploymentCreated" : "DeploymentUnavailable",
          "Deployment " + Names.deployment(gw) + " has " + (deployment == null || deployment.getStatus() == null || deployment.getStatus().getAvailableReplicas() == null ? 0 : deployment.getStatus().getAvailableReplicas())
              + " of " + replicas + " replicas available with the current configuration");
    }
    return finish(gw, ctx, outcome, keys, service);
  }

  static boolean available(Deployment d, int replicas) {
    var st = d.getStatus();
    if (st == null || d.getMetadata().getGeneration() == null || st.getObservedGeneration() == null
        || st.getObservedGeneration() < d.getMetadata().getGeneration()) {
      return false;
    }
    int updated = st.getUpdatedReplicas() == null ? 0 : st.getUpdatedReplicas();
    int available = st.getAvailableReplicas() == null ? 0 : st.getAvailableReplicas();
    int total = st.getReplicas() == null ? 0 : st.getReplicas();
    return updated >= replicas && available >= replicas && total == replicas;
  }

  /** What this pass found wrong or still moving. */
  static final class Outcome {
    String reason;
    String message;
    boolean stalled;
    Integer users;
    Integer rejected;

    void fail(String r, String m, boolean stall) {
      if (reason == null) {
        reason = r;
        message = m;
      }
      stalled |= stall;
    }

    void progress(String r, String m) {
      if (reason == null) {
        reason = r;
        message = m;
      }
    }
  }

  private UpdateControl<SftpGateway> finish(SftpGateway gw, Context<SftpGateway> ctx, Outcome outcome, List<ParsedKey> keys, Service service) {
    Long generation = gw.getMetadata().getGeneration();
    SftpGatewayStatus old = gw.getStatus();
    SftpGatewayStatus st = new SftpGatewayStatus();
    st.observedGeneration = generation;
    List<Condition> conds = new ArrayList<>();
    if (outcome.reason == null) {
      conds.add(Conditions.of(Conditions.READY, true, "Available", "The gateway is available with the current configuration", generation));
    } else {
      conds.add(Conditions.of(Conditions.READY, false, outcome.reason, outcome.message, generation));
      conds.add(Conditions.of(outcome.stalled ? Conditions.STALLED : Conditions.RECONCILING, true, outcome.reason, outcome.message, generation));
    }
    st.conditions = Conditions.merge(old == null ? null : old.conditions, conds, Instant.now());
    int port = gw.getSpec().service == null || gw.getSpec().service.port == null ? 22 : gw.getSpec().service.port;
    String host = endpointHost(gw, service);
    st.endpoint = host + ":" + port;
    if (keys != null) {
      st.hostKeys = keys.stream().map(k -> new SftpGatewayStatus.HostKeyStatus(k.type(), k.fingerprint())).toList();
      st.knownHosts = HostKeyMaterial.knownHosts(host, port, keys);
    }
    st.users = outcome.users != null ? outcome.users : old == null ? null : old.users;
    st.rejectedUsers = outcome.rejected != null ? outcome.rejected : old == null ? null : old.rejectedUsers;
    if (outcome.reason != null && !outcome.reason.equals(Conditions.reason(old == null ? null : old.conditions, Conditions.READY))) {
      Events.warning(client, gw, outcome.reason, outcome.message);
    }
    if (old != null && sameStatus(old, st)) {
      return UpdateControl.noUpdate();
    }
    gw.setStatus(st);
    LOG.infof("%s/%s: Ready=%s%s", gw.getMetadata().getNamespace(), gw.getMetadata().getName(), outcome.reason == null, outcome.reason == null ? "" : " (" + outcome.reason + ")");
    return UpdateControl.patchStatus(gw);
  }

  static String endpointHost(SftpGateway gw, Service service) {
    if (service != null && service.getStatus() != null && service.getStatus().getLoadBalancer() != null
        && service.getStatus().getLoadBalancer().getIngress() != null && !service.getStatus().getLoadBalancer().getIngress().isEmpty()) {
      var ing = service.getStatus().getLoadBalancer().getIngress().get(0);
      if (ing.getHostname() != null) {
        return ing.getHostname();
      }
      if (ing.getIp() != null) {
        return ing.getIp();
      }
    }
    return Names.service(gw) + "." + gw.getMetadata().getNamespace() + ".svc";
  }

  static boolean sameStatus(SftpGatewayStatus a, SftpGatewayStatus b) {
    return java.util.Objects.equals(a.observedGeneration, b.observedGeneration)
        && Conditions.sameIgnoringTime(a.conditions, b.conditions)
        && java.util.Objects.equals(a.endpoint, b.endpoint)
        && java.util.Objects.equals(a.hostKeys, b.hostKeys)
        && java.util.Objects.equals(a.knownHosts, b.knownHosts)
        && java.util.Objects.equals(a.users, b.users)
        && java.util.Objects.equals(a.rejectedUsers, b.rejectedUsers);
  }

  @Override
  public ErrorStatusUpdateControl<SftpGateway> updateErrorStatus(SftpGateway gw, Context<SftpGateway> ctx, Exception e) {
    SftpGatewayStatus st = gw.getStatus() == null ? new SftpGatewayStatus() : gw.getStatus();
    Long generation = gw.getMetadata().getGeneration();
    String message = "reconciliation failed, retrying: " + e.getMessage();
    st.conditions = Conditions.merge(st.conditions, List.of(
        Conditions.of(Conditions.READY, false, "ReconcileError", message, generation),
        Conditions.of(Conditions.RECONCILING, true, "ReconcileError", message, generation)), Instant.now());
    gw.setStatus(st);
    return ErrorStatusUpdateControl.patchStatus(gw);
  }

}
