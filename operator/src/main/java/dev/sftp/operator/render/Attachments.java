package dev.sftp.operator.render;

import dev.sftp.contract.UserEntry;
import dev.sftp.contract.ValidationError;
import dev.sftp.operator.model.SftpGateway;
import dev.sftp.operator.model.SftpGatewaySpec;
import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.status.Reasons;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * Which SftpUsers a gateway serves, and why the others are not served: pure decisions from the
 * users' specs and what they reference, read through the lookups passed in. Both reconcilers
 * (the gateway's, to render; the user's, to report) and the {@code render} command use it, so
 * the rendered users and every user's status agree.
 */
public final class Attachments {
  private Attachments() {}

  /**
   * What the decisions read.
   *
   * @param resolver one user's entry or the reason it has none ({@link UserResolver#resolve}, or
   *     a cache of it)
   * @param namespaceLabels the labels of a namespace, for {@code spec.users.namespaceSelector}
   * @param now the time disabled and expired users are judged at
   */
  public record Inputs(Function<SftpUser, UserResolver.Resolution> resolver,
      Function<String, Map<String, String>> namespaceLabels, Instant now) {
    /** Resolving every user through a lookup and a hasher. */
    public static Inputs of(UserResolver.Lookup lookup, BiFunction<SftpUser, String, String> hasher,
        Function<String, Map<String, String>> namespaceLabels, Instant now) {
      return new Inputs(u -> UserResolver.resolve(u, lookup, hasher), namespaceLabels, now);
    }
  }

  /**
   * One user's place on a gateway.
   *
   * @param entry the rendered user, or null when it is not served
   * @param fingerprints SHA256 fingerprints of its accepted keys
   * @param reason why it is not served, or why it is served but refused (Disabled, Expired); null
   *     when it can log in
   * @param message what to do about it
   */
  public record Attachment(SftpUser user, UserEntry entry, List<String> fingerprints, String reason, String message) {
    /** Rendered into the gateway (possibly disabled or expired, which the gateway enforces). */
    public boolean served() {
      return entry != null;
    }
  }

  /** Whether a user names this gateway. */
  public static boolean names(SftpUser u, SftpGateway gw) {
    return Names.gatewayKey(gw).equals(Names.gatewayKey(u));
  }

  /**
   * Who keeps a contested login: the SftpUser created first, and between two created within the
   * same second (creation times have one-second resolution) the first by namespace, then name:
   * the rule Gateway API routes follow for conflicts. It reads specs and metadata only, never a
   * status, so every reconciler (and {@code render}) decides the same.
   */
  static final Comparator<SftpUser> SENIORITY = Comparator
      .comparing((SftpUser u) -> String.valueOf(u.getMetadata().getCreationTimestamp()))
      .thenComparing(u -> u.getMetadata().getNamespace())
      .thenComparing(u -> u.getMetadata().getName());

  /** Every candidate that names the gateway, with its outcome, in seniority order. */
  public static List<Attachment> attach(SftpGateway gw, Collection<SftpUser> candidates, Inputs in) {
    List<SftpUser> users = candidates.stream().filter(u -> names(u, gw)).sorted(SENIORITY).toList();
    List<Attachment> out = new ArrayList<>(users.size());
    Map<String, SftpUser> byLogin = new HashMap<>();
    Map<String, Boolean> admitted = new HashMap<>();
    for (SftpUser u : users) {
      String ns = u.getMetadata().getNamespace();
      if (!admitted.computeIfAbsent(ns, n -> admits(gw, n, in.namespaceLabels()))) {
        out.add(new Attachment(u, null, List.of(), Reasons.NAMESPACE_NOT_ALLOWED, "gateway " + Names.gatewayKey(gw)
            + " does not admit users from namespace " + ns + ": add it to the gateway's spec.users.allowedNamespaces or namespaceSelector"));
        continue;
      }
      if (UserResolver.adminHome(u) && !grantsAdminHomes(gw, ns)) {
        out.add(new Attachment(u, null, List.of(), Reasons.HOME_NOT_ALLOWED, "spec.home '" + u.getSpec().home + "' starts with '/', outside the area of namespace "
            + ns + " on gateway " + Names.gatewayKey(gw) + ": a home is relative to " + ns + "/ (drop the leading '/'); only users in the gateway's own namespace ("
            + gw.getMetadata().getNamespace() + ") may have a home outside it, and only when the SftpGateway sets spec.users.adminHomes: true"));
        continue;
      }
      UserResolver.Resolution r = in.resolver().apply(u);
      if (r.entry() == null) {
        out.add(new Attachment(u, null, r.fingerprints(), r.reason(), r.message()));
        continue;
      }
      SftpUser first = byLogin.putIfAbsent(r.entry().name(), u);
      if (first != null) {
        out.add(new Attachment(u, null, r.fingerprints(), ValidationError.Reason.DUPLICATE_USER.conditionReason(),
            "login name '" + r.entry().name() + "' is already used on this gateway by SftpUser "
                + first.getMetadata().getNamespace() + "/" + first.getMetadata().getName() + " (the older one wins): set spec.username"));
        continue;
      }
      out.add(switch (r.entry().standing(in.now())) {
        case ACTIVE -> new Attachment(u, r.entry(), r.fingerprints(), null, null);
        case DISABLED -> new Attachment(u, r.entry(), r.fingerprints(), Reasons.DISABLED, "the user is disabled (spec.disabled): logins are refused");
        case EXPIRED -> new Attachment(u, r.entry(), r.fingerprints(), Reasons.EXPIRED,
            "the user expired at " + r.entry().expiresAt() + ": logins are refused; move spec.expiresAt to extend");
      });
    }
    return out;
  }

  /** The users to render, sorted by login name. */
  public static List<UserEntry> served(List<Attachment> attachments) {
    return attachments.stream().filter(Attachment::served).map(Attachment::entry).sorted(Comparator.comparing(UserEntry::name)).toList();
  }

  /**
   * Whether users of a namespace may have a home outside their namespace's area: an explicit
   * grant of the gateway, to its own namespace only (where the platform team, not a tenant,
   * makes SftpUsers), for administrators who see every tenant's folder.
   */
  public static boolean grantsAdminHomes(SftpGateway gw, String ns) {
    return gw.getMetadata().getNamespace().equals(ns) && gw.getSpec().users != null && Boolean.TRUE.equals(gw.getSpec().users.adminHomes);
  }

  /** Whether the gateway admits users from a namespace: its own always, others as its spec.users says. */
  public static boolean admits(SftpGateway gw, String ns, Function<String, Map<String, String>> namespaceLabels) {
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
}
