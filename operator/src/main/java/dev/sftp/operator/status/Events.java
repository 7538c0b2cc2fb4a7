package dev.sftp.operator.status;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReferenceBuilder;
import io.fabric8.kubernetes.api.model.events.v1.EventBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.jboss.logging.Logger;

/** Kubernetes Events for what goes wrong, emitted when the reason changes (not every pass). */
public final class Events {
  private static final Logger LOG = Logger.getLogger(Events.class);

  private Events() {}

  public static void warning(KubernetesClient client, HasMetadata about, String reason, String message) {
    String ns = about.getMetadata().getNamespace();
    try {
      client.resource(new EventBuilder()
          .withNewMetadata()
          .withGenerateName(about.getMetadata().getName() + "-")
          .withNamespace(ns)
          .endMetadata()
          .withEventTime(new io.fabric8.kubernetes.api.model.MicroTime(DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSXXX", Locale.ROOT).format(Instant.now().atOffset(java.time.ZoneOffset.UTC))))
          .withReportingController("sftp.dev/sftp-operator")
          .withReportingInstance("sftp-operator")
          .withAction("Reconcile")
          .withType("Warning")
          .withReason(reason)
          .withNote(message.length() > 1000 ? message.substring(0, 1000) : message)
          .withRegarding(new ObjectReferenceBuilder().withApiVersion(about.getApiVersion()).withKind(about.getKind())
              .withName(about.getMetadata().getName()).withNamespace(ns).withUid(about.getMetadata().getUid()).build())
          .build()).create();
    } catch (KubernetesClientException e) {
      // An event is a courtesy: never fail a reconciliation for it.
      LOG.debugf("event %s for %s/%s not recorded: %s", reason, ns, about.getMetadata().getName(), e.getMessage());
    }
  }
}
