package dev.sftp.operator.reconciler;

import dev.sftp.contract.ServerSettings;
import dev.sftp.contract.UserEntry;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewayStatus;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.render.Attachments;
import dev.sftp.operator.render.GatewayRender;
import dev.sftp.operator.render.HostKeyMaterial;
import dev.sftp.operator.render.HostKeyMaterial.ParsedKey;
import dev.sftp.operator.render.Names;
import dev.sftp.operator.status.Conditions;
import dev.sftp.operator.status.Events;
import dev.sftp.operator.status.Reasons;
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
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * Turns an {@link SftpGateway} into its host key Secret, volume claim, rendered contract Secrets,
 * ServiceAccount, Deployment, Service and PodDisruptionBudget, and reports what it sees. It
 * watches everything it consumes itself ({@link GatewayWatches}): its children, the SftpUsers
 * that name it, and the Secrets and ConfigMaps those users reference.
 *
 * <p>The children are applied in plain steps rather than as JOSDK dependents: the contract step
 * renders 17 Secrets from one resolution of every user, the PodDisruptionBudget and the claim
 * depend on conditions met halfway through, and the Fabric8 mock server cannot run the
 * server-side apply that dependents use; {@link Applier} gives the same "write only what
 * differs" with either mode.
 */
@ControllerConfiguration(name = "sftpgateway")
public class SftpGatewayReconciler implements Reconciler<SftpGateway> {
  private static final Logger LOG = Logger.getLogger(SftpGatewayReconciler.class);

  private final KubernetesClient client;
  private final Applier applier;
  private final String defaultImage;
  private final UserDirectory directory;
  private final AtomicLong passes = new AtomicLong();
  /** auto (API discovery), on or off: whether PodDisruptionBudgets are made and watched. */
  private final String disruptionBudgetsSetting;
  /** Whether the API server serves policy/v1 (Kubernetes 1.21+); without it, no PDB informer. */
  private volatile boolean disruptionBudgets = true;

  private final GatewayWatches watches = new GatewayWatches();

  private final OperatorMetrics metrics;

  public SftpGatewayReconciler(KubernetesClient client, UserDirectory directory, OperatorMetrics metrics,
      @ConfigProperty(name = "sftp.operator.server-side-apply", defaultValue = "true") boolean ssa,
      @ConfigProperty(name = "sftp.operator.gateway-image") String defaultImage,
      @ConfigProperty(name = "sftp.operator.disruption-budgets", defaultValue = "auto") String disruptionBudgets) {
    this.client = client;
    this.metrics = metrics;
    this.disruptionBudgetsSetting = disruptionBudgets;
    this.directory = directory;
    this.applier = new Applier(client, ssa);
    this.defaultImage = defaultImage;
  }

  @Override
  public List<EventSource<?, SftpGateway>> prepareEventSources(EventSourceContext<SftpGateway> context) {
    disruptionBudgets = DisruptionBudgets.enabled(disruptionBudgetsSetting, client);
    directory.useOwnSecrets(watches.ownSecrets());
    var primary = context.getPrimaryCache();
    metrics.liveGateways(() -> primary.list().map(Names::gatewayKey).toList());
    return watches.sources(context, disruptionBudgets, directory);
  }

  @SuppressWarnings("unchecked")
  private <R extends HasMetadata> R cached(Context<SftpGateway> ctx, Class<R> type, String name, String ns) {
    return ctx.eventSourceRetriever().getEventSourceFor(type, type.getSimpleName().toLowerCase()) instanceof InformerEventSource<?, ?> ies
        ? type.cast(((InformerEventSource<R, SftpGateway>) ies).get(new ResourceID(name, ns)).orElse(null))
        : null;
  }

  private Secret ownSecret(String name, String ns) {
    return watches.ownSecrets().get(ns + "/" + name);
  }

  /** How many reconciliations have started (for tests and diagnostics). */
  public long passes() {
    return passes.get();
  }

  @Override
  public UpdateControl<SftpGateway> reconcile(SftpGateway gw, Context<SftpGateway> ctx) {
    passes.incrementAndGet();
    Outcome outcome = new Outcome();
    Secret hostKeys = hostKeys(gw, outcome);
    PersistentVolumeClaim claim = storage(gw, ctx, outcome);
    if (outcome.stalled) {
      return finish(gw, outcome, null);
    }
    ServerSettings server = GatewayRender.serverSettings(gw, GatewayRender.hostKeyFiles(hostKeys.getData()));
    // The contract's own rules on the server settings, before anything is rendered: a value the
    // CRD schema lets through (a CIDR) must not reach a gateway that would refuse to start.
    List<dev.sftp.contract.ValidationError> invalid = dev.sftp.contract.ContractValidator.validateDocument(
        dev.sftp.contract.ContractJson.mapper().valueToTree(dev.sftp.contract.GatewayConfig.of(server, List.of())), dev.sftp.contract.GatewayConfig.KIND);
    if (!invalid.isEmpty()) {
      dev.sftp.contract.ValidationError e = invalid.get(0);
      outcome.fail(Reasons.SERVER_SETTINGS_INVALID, e.path().replaceFirst("^\\$\\.server", "spec.server") + ": " + e.message()
          + " (the gateway keeps its current configuration)", true);
      return finish(gw, outcome, null);
    }
    contract(gw, server, ctx, outcome);
    Service service = workload(gw, server, hostKeys, ctx, outcome);
    observe(gw, claim, ctx, outcome);
    return finish(gw, outcome, service);
  }

  /** Step 1: the host key Secret, generated once unless the spec names one; its keys parsed. */
  private Secret hostKeys(SftpGateway gw, Outcome outcome) {
    String ns = gw.getMetadata().getNamespace();
    boolean named = gw.getSpec().hostKeys != null && gw.getSpec().hostKeys.secretName != null;
    Secret hostKeys = named ? directory.secret(watches.referencedSecrets(), ns, Names.hostKeySecret(gw)) : ownSecret(Names.hostKeySecret(gw), ns);
    if (hostKeys == null && !named) {
      // Not in the cache of labelled Secrets: a GET before generating, so that a Secret that
      // lost its labels is never replaced by new keys.
      hostKeys = client.secrets().inNamespace(ns).withName(Names.hostKeySecret(gw)).get();
      if (hostKeys == null) {
        hostKeys = client.resource(GatewayRender.hostKeySecret(gw, HostKeyMaterial.generate())).create();
        LOG.infof("%s: generated host keys in Secret %s", Names.gatewayKey(gw), Names.hostKeySecret(gw));
      }
    }
    if (hostKeys == null) {
      outcome.fail(Reasons.HOST_KEY_SECRET_NOT_FOUND, "Secret " + Names.hostKeySecret(gw) + " named in spec.hostKeys.secretName does not exist in namespace " + ns
          + ": create it with private host keys (for example ssh_host_ed25519_key)", true);
      return null;
    }
    try {
      outcome.keys = HostKeyMaterial.parse(hostKeys.getData());
    } catch (IllegalArgumentException e) {
      outcome.fail(Reasons.HOST_KEY_SECRET_INVALID, "host key Secret " + Names.hostKeySecret(gw) + ": " + e.getMessage(), true);
    }
    return hostKeys;
  }

  /** Step 2: the volume claim (made here unless the spec names an existing one) and its modes. */
  private PersistentVolumeClaim storage(SftpGateway gw, Context<SftpGateway> ctx, Outcome outcome) {
    String ns = gw.getMetadata().getNamespace();
    int replicas = GatewayRender.replicas(gw);
    boolean existing = gw.getSpec().storage != null && gw.getSpec().storage.existingClaim != null;
    PersistentVolumeClaim claim = existing
        ? client.persistentVolumeClaims().inNamespace(ns).withName(Names.claim(gw)).get()
        : cached(ctx, PersistentVolumeClaim.class, Names.claim(gw), ns);
    List<String> modes = existing && claim != null && claim.getSpec() != null ? claim.getSpec().getAccessModes() : GatewayRender.accessModes(gw);
    if (replicas > 1 && (modes == null || !modes.contains("ReadWriteMany"))) {
      outcome.fail(Reasons.STORAGE_ACCESS_MODE_INVALID, replicas + " replicas need a ReadWriteMany volume, but the claim is " + modes
          + ": set spec.storage.accessModes to [ReadWriteMany] on a storage class that supports it, or use 1 replica", true);
    }
    if (existing && claim == null) {
      outcome.fail(Reasons.STORAGE_CLAIM_NOT_FOUND, "PersistentVolumeClaim " + Names.claim(gw) + " named in spec.storage.existingClaim does not exist in namespace " + ns, true);
    }
    if (!existing && !outcome.stalled) {
      applier.apply(GatewayRender.claim(gw), claim);
    }
    return claim;
  }

  /** Step 3: the contract: server settings, and every user that names the gateway, in shards. */
  private void contract(SftpGateway gw, ServerSettings server, Context<SftpGateway> ctx, Outcome outcome) {
    String ns = gw.getMetadata().getNamespace();
    List<Secret> currentShards = new ArrayList<>();
    for (int i = 0; i < Names.USER_SHARDS; i++) {
      currentShards.add(ownSecret(Names.userShardSecret(gw, i), ns));
    }
    Attachments.Inputs inputs = directory.inputs(watches.referencedSecrets(), watches.referencedConfigMaps(), gw);
    java.util.Set<SftpUser> candidates = ctx.getSecondaryResources(SftpUser.class);
    List<Attachments.Attachment> attachments = Attachments.attach(gw, candidates, inputs);
    directory.retainResolved(gw, candidates.stream().map(u -> u.getMetadata().getUid()).filter(java.util.Objects::nonNull)
        .collect(java.util.stream.Collectors.toSet()));
    List<UserEntry> served = Attachments.served(attachments);
    outcome.users = served.size();
    outcome.rejected = attachments.size() - served.size();
    metrics.rendered(Names.gatewayKey(gw), outcome.users, outcome.rejected);
    outcome.hashing = attachments.stream().anyMatch(a -> Reasons.PASSWORD_HASHING.equals(a.reason()));
    applier.apply(GatewayRender.configSecret(gw, server, List.of()), ownSecret(Names.configSecret(gw), ns));
    List<List<UserEntry>> byShard = GatewayRender.byShard(served);
    for (int i = 0; i < byShard.size(); i++) {
      applier.apply(GatewayRender.userShard(gw, i, byShard.get(i)), currentShards.get(i));
    }
  }

  /** Step 4: what runs the gateway: its identity and rights, the Deployment, Service and PDB. */
  private Service workload(SftpGateway gw, ServerSettings server, Secret hostKeys, Context<SftpGateway> ctx, Outcome outcome) {
    String ns = gw.getMetadata().getNamespace();
    applier.apply(GatewayRender.serviceAccount(gw), cached(ctx, ServiceAccount.class, Names.serviceAccount(gw), ns));
    applier.apply(GatewayRender.gatewayRole(gw), cached(ctx, Role.class, Names.serviceAccount(gw), ns));
    applier.apply(GatewayRender.gatewayRoleBinding(gw), cached(ctx, RoleBinding.class, Names.serviceAccount(gw), ns));
    servingConfigMap(gw);
    String image = gw.getSpec().image != null ? gw.getSpec().image : defaultImage;
    applier.apply(GatewayRender.deployment(gw, image, GatewayRender.configHash(server, hostKeys.getData())), cached(ctx, Deployment.class, Names.deployment(gw), ns));
    Service service = cached(ctx, Service.class, Names.service(gw), ns);
    applier.apply(GatewayRender.service(gw), service);
    if (!disruptionBudgets) {
      if (GatewayRender.replicas(gw) > 1) {
        outcome.progress(Reasons.DISRUPTION_BUDGET_UNSUPPORTED, "the API server does not serve policy/v1 PodDisruptionBudgets (Kubernetes 1.21+): "
            + "no PodDisruptionBudget protects the " + GatewayRender.replicas(gw) + " replicas; upgrade the cluster");
      }
      return service;
    }
    PodDisruptionBudget pdb = cached(ctx, PodDisruptionBudget.class, Names.pdb(gw), ns);
    if (GatewayRender.replicas(gw) > 1) {
      applier.apply(GatewayRender.podDisruptionBudget(gw), pdb);
    } else if (pdb != null) {
      client.resource(pdb).delete();
    }
    return service;
  }

  /**
   * The ConfigMap the pods report into. Made once and never applied again: its data belongs to
   * the pods (a replace by the mock server's update mode would wipe it).
   */
  private void servingConfigMap(SftpGateway gw) {
    String ns = gw.getMetadata().getNamespace();
    if (watches.referencedConfigMaps().get(ns + "/" + Names.servingConfigMap(gw)) != null) {
      return;
    }
    try {
      client.resource(GatewayRender.servingConfigMap(gw)).create();
    } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
      if (e.getCode() != java.net.HttpURLConnection.HTTP_CONFLICT) {
        throw e;
      }
    }
  }

  /** How long a report of a pod that is gone is kept: a new pod may report before its informer event. */
  static final java.time.Duration STALE_REPORT = java.time.Duration.ofMinutes(2);

  /**
   * Removes the reports of pods that are gone (a pod removes its own on a clean shutdown; a
   * killed one cannot). Lists the pods only when there are more reports than replicas.
   */
  private void pruneReports(SftpGateway gw, Deployment deployment) {
    String ns = gw.getMetadata().getNamespace();
    io.fabric8.kubernetes.api.model.ConfigMap cm = watches.referencedConfigMaps().get(ns + "/" + Names.servingConfigMap(gw));
    int replicas = deployment == null || deployment.getStatus() == null || deployment.getStatus().getReplicas() == null ? 0 : deployment.getStatus().getReplicas();
    if (cm == null || SlimStore.isStub(cm) || cm.getData() == null || cm.getData().size() <= replicas) {
      return;
    }
    java.util.Set<String> live = new java.util.HashSet<>();
    client.pods().inNamespace(ns).withLabel(Names.GATEWAY_LABEL, gw.getMetadata().getName()).list().getItems()
        .forEach(p -> live.add(p.getMetadata().getName()));
    Instant before = Instant.now().minus(STALE_REPORT);
    // A JSON patch that tests the version: a pod reporting meanwhile makes it fail, and the
    // next pass looks again.
    com.fasterxml.jackson.databind.node.ArrayNode ops = com.fasterxml.jackson.databind.node.JsonNodeFactory.instance.arrayNode();
    ops.addObject().put("op", "test").put("path", "/metadata/resourceVersion").put("value", cm.getMetadata().getResourceVersion());
    cm.getData().forEach((pod, json) -> {
      dev.sftp.contract.ServingReport r = dev.sftp.contract.ServingReport.parse(json);
      if (!live.contains(pod) && (r == null || Instant.parse(r.at()).isBefore(before))) {
        ops.addObject().put("op", "remove").put("path", "/data/" + pod.replace("~", "~0").replace("/", "~1"));
      }
    });
    if (ops.size() > 1) {
      try {
        client.configMaps().inNamespace(ns).withName(cm.getMetadata().getName())
            .patch(io.fabric8.kubernetes.client.dsl.base.PatchContext.of(io.fabric8.kubernetes.client.dsl.base.PatchType.JSON), ops.toString());
        LOG.infof("%s: removed the serving reports of %d pods that are gone", Names.gatewayKey(gw), ops.size() - 1);
      } catch (io.fabric8.kubernetes.client.KubernetesClientException e) {
        LOG.debugf("%s: serving reports not pruned this time (%s)", Names.gatewayKey(gw), e.getMessage());
      }
    }
  }

  /** Step 5: what is still moving: a pending claim, a Deployment not yet available. */
  private void observe(SftpGateway gw, PersistentVolumeClaim claim, Context<SftpGateway> ctx, Outcome outcome) {
    int replicas = GatewayRender.replicas(gw);
    if (claim != null && claim.getStatus() != null && "Pending".equals(claim.getStatus().getPhase())) {
      outcome.progress(Reasons.STORAGE_CLAIM_PENDING, "PersistentVolumeClaim " + Names.claim(gw) + " is Pending: check that its storage class can provision "
          + GatewayRender.accessModes(gw) + " volumes");
    }
    Deployment deployment = cached(ctx, Deployment.class, Names.deployment(gw), gw.getMetadata().getNamespace());
    pruneReports(gw, deployment);
    if (deployment == null || !available(deployment, replicas)) {
      outcome.progress(deployment == null ? Reasons.DEPLOYMENT_CREATED : Reasons.DEPLOYMENT_UNAVAILABLE,
          "Deployment " + Names.deployment(gw) + " has " + (deployment == null || deployment.getStatus() == null || deployment.getStatus().getAvailableReplicas() == null ? 0 : deployment.getStatus().getAvailableReplicas())
              + " of " + replicas + " replicas available with the current configuration");
    }
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

  /** What this pass found wrong or still moving, and what it learnt for the status. */
  static final class Outcome {
    String reason;
    String message;
    boolean stalled;
    Integer users;
    Integer rejected;
    List<ParsedKey> keys;
    /** Some user's password is being hashed: render again shortly. */
    boolean hashing;

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

  private UpdateControl<SftpGateway> finish(SftpGateway gw, Outcome outcome, Service service) {
    Long generation = gw.getMetadata().getGeneration();
    SftpGatewayStatus old = gw.getStatus();
    SftpGatewayStatus st = new SftpGatewayStatus();
    st.observedGeneration = generation;
    List<Condition> conds = new ArrayList<>();
    if (outcome.reason == null) {
      conds.add(Conditions.of(Conditions.READY, true, Reasons.AVAILABLE, "The gateway is available with the current configuration", generation));
    } else {
      conds.add(Conditions.of(Conditions.READY, false, outcome.reason, outcome.message, generation));
      conds.add(Conditions.of(outcome.stalled ? Conditions.STALLED : Conditions.RECONCILING, true, outcome.reason, outcome.message, generation));
    }
    st.conditions = Conditions.merge(old == null ? null : old.conditions, conds, Instant.now());
    int port = gw.getSpec().service == null || gw.getSpec().service.port == null ? 22 : gw.getSpec().service.port;
    String host = endpointHost(gw, service);
    st.endpoint = host + ":" + port;
    if (outcome.keys != null) {
      st.hostKeys = outcome.keys.stream().map(k -> new SftpGatewayStatus.HostKeyStatus(k.type(), k.fingerprint())).toList();
      st.knownHosts = HostKeyMaterial.knownHosts(host, port, outcome.keys);
    }
    st.users = outcome.users != null ? outcome.users : old == null ? null : old.users;
    st.rejectedUsers = outcome.rejected != null ? outcome.rejected : old == null ? null : old.rejectedUsers;
    if (outcome.reason != null && !outcome.reason.equals(Conditions.reason(old == null ? null : old.conditions, Conditions.READY))) {
      Events.warning(client, gw, outcome.reason, outcome.message);
    }
    UpdateControl<SftpGateway> control;
    if (old != null && sameStatus(old, st)) {
      control = UpdateControl.noUpdate();
    } else {
      gw.setStatus(st);
      LOG.infof("%s: Ready=%s%s", Names.gatewayKey(gw), outcome.reason == null, outcome.reason == null ? "" : " (" + outcome.reason + ")");
      control = UpdateControl.patchStatus(gw);
    }
    return outcome.hashing ? control.rescheduleAfter(SftpUserReconciler.HASH_POLL) : control;
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
    return Objects.equals(a.observedGeneration, b.observedGeneration)
        && Conditions.sameIgnoringTime(a.conditions, b.conditions)
        && Objects.equals(a.endpoint, b.endpoint)
        && Objects.equals(a.hostKeys, b.hostKeys)
        && Objects.equals(a.knownHosts, b.knownHosts)
        && Objects.equals(a.users, b.users)
        && Objects.equals(a.rejectedUsers, b.rejectedUsers);
  }

  @Override
  public ErrorStatusUpdateControl<SftpGateway> updateErrorStatus(SftpGateway gw, Context<SftpGateway> ctx, Exception e) {
    SftpGatewayStatus st = gw.getStatus() == null ? new SftpGatewayStatus() : gw.getStatus();
    Long generation = gw.getMetadata().getGeneration();
    String message = "reconciliation failed, retrying: " + e.getMessage();
    st.conditions = Conditions.merge(st.conditions, List.of(
        Conditions.of(Conditions.READY, false, Reasons.RECONCILE_ERROR, message, generation),
        Conditions.of(Conditions.RECONCILING, true, Reasons.RECONCILE_ERROR, message, generation)), Instant.now());
    gw.setStatus(st);
    return ErrorStatusUpdateControl.patchStatus(gw);
  }
}
