package dev.sftp.operator.model;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** A user of an SFTP gateway (reconciled by the next issue; the schema is designed now). */
@Group(SftpGateway.GROUP)
@Version(SftpGateway.VERSION)
@ShortNames("sftpuser")
@AdditionalPrinterColumn(name = "Gateway", jsonPath = ".spec.gateway.name", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Reason", jsonPath = ".status.conditions[?(@.type==\"Ready\")].reason", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class SftpUser extends CustomResource<SftpUserSpec, SftpUserStatus> implements Namespaced {
  @Override
  protected SftpUserSpec initSpec() {
    return new SftpUserSpec();
  }
}
