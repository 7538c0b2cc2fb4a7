package dev.sftp.operator.model;

import io.fabric8.crd.generator.annotation.AdditionalPrinterColumn;
import io.fabric8.kubernetes.api.model.Namespaced;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Version;

/** An SFTP gateway: a Deployment of the gateway with its Service, volume, host keys and users. */
@Group(SftpGateway.GROUP)
@Version(SftpGateway.VERSION)
@ShortNames("sftpgw")
@AdditionalPrinterColumn(name = "Ready", jsonPath = ".status.conditions[?(@.type==\"Ready\")].status", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Endpoint", jsonPath = ".status.endpoint", type = AdditionalPrinterColumn.Type.STRING)
@AdditionalPrinterColumn(name = "Users", jsonPath = ".status.users", type = AdditionalPrinterColumn.Type.INTEGER)
@AdditionalPrinterColumn(name = "Age", jsonPath = ".metadata.creationTimestamp", type = AdditionalPrinterColumn.Type.DATE)
public class SftpGateway extends CustomResource<SftpGatewaySpec, SftpGatewayStatus> implements Namespaced {
  public static final String GROUP = "sftp.dev";
  public static final String VERSION = "v1alpha1";

  @Override
  protected SftpGatewaySpec initSpec() {
    return new SftpGatewaySpec();
  }
}
