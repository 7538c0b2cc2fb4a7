package dev.sftp.operator.status;

import dev.sftp.contract.ServingReport;
import java.util.List;

/**
 * Whether a rendered user can log in: pure judgement from what the operator rendered and what
 * the gateway's pods report they serve ({@link ServingReport}). A user is served when every ready
 * pod of its gateway serves the user list it was rendered into, in the version that holds the
 * user's current entry.
 */
public final class Serving {
  private Serving() {}

  /**
   * One pod of the gateway.
   *
   * @param name the pod's name
   * @param ready whether it receives connections (its Ready condition, and not terminating)
   * @param report what it last reported, or null when it reported nothing readable
   */
  public record Pod(String name, boolean ready, ServingReport report) {}

  /**
   * The judgement.
   *
   * @param served whether the user can log in on every ready pod
   * @param reason the condition reason when not served: {@link Reasons#RENDER_PENDING}, {@link
   *     Reasons#GATEWAY_UNAVAILABLE} or {@link Reasons#LOAD_PENDING}
   * @param message for a person
   */
  public record Verdict(boolean served, String reason, String message) {}

  /**
   * @param gateway {@code namespace/name} of the gateway, for messages
   * @param listFile the user list file the user belongs in ({@code users-NN.json})
   * @param rendered the digest of that list as rendered, or null when the rendered list does not
   *     hold the user's current entry yet (asked only when some pod is ready)
   * @param pods the gateway's pods
   */
  public static Verdict judge(String gateway, String listFile, java.util.function.Supplier<String> rendered, List<Pod> pods) {
    List<Pod> ready = pods.stream().filter(Pod::ready).toList();
    if (ready.isEmpty()) {
      return new Verdict(false, Reasons.GATEWAY_UNAVAILABLE, "no pod of gateway " + gateway
          + " is ready to serve the user: see the SftpGateway's status");
    }
    String renderedDigest = rendered.get();
    if (renderedDigest == null) {
      return new Verdict(false, Reasons.RENDER_PENDING, "waiting for the operator to render the user's current entry into gateway " + gateway + " (" + listFile + ")");
    }
    List<String> behind = ready.stream()
        .filter(p -> p.report() == null || !renderedDigest.equals(p.report().userLists().get(listFile)))
        .map(Pod::name).sorted().toList();
    if (behind.isEmpty()) {
      return new Verdict(true, Reasons.SERVED, "The user can log in: " + (ready.size() == 1 ? "the ready pod of gateway " + gateway + " serves it"
          : "all " + ready.size() + " ready pods of gateway " + gateway + " serve it"));
    }
    return new Verdict(false, Reasons.LOAD_PENDING, "rendered into " + listFile + "; " + (ready.size() - behind.size()) + " of " + ready.size()
        + " ready pods of gateway " + gateway + " serve it so far (waiting for " + String.join(", ", behind.subList(0, Math.min(3, behind.size())))
        + (behind.size() > 3 ? ", …" : "") + ")");
  }
}
