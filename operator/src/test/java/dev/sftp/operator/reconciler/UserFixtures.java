package dev.sftp.operator.reconciler;

import dev.sftp.operator.model.SftpUser;
import dev.sftp.operator.model.SftpUserSpec;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import java.util.List;

/** SftpUsers for tests. */
public final class UserFixtures {
  private UserFixtures() {}

  public static SftpUser user(String ns, String name, String gateway) {
    SftpUser u = new SftpUser();
    u.setMetadata(new ObjectMetaBuilder().withName(name).withNamespace(ns).build());
    u.setSpec(new SftpUserSpec());
    u.getSpec().gateway = new SftpUserSpec.GatewayRef();
    u.getSpec().gateway.name = gateway;
    return u;
  }

  public static SftpUser keyUser(String ns, String name, String gateway, String... keys) {
    SftpUser u = user(ns, name, gateway);
    u.getSpec().publicKeys = List.of(keys);
    return u;
  }

  public static SftpUser passwordUser(String ns, String name, String gateway, String secret) {
    SftpUser u = user(ns, name, gateway);
    u.getSpec().password = new SftpUserSpec.PasswordSpec();
    u.getSpec().password.secretKeyRef = new SftpUserSpec.KeyRef();
    u.getSpec().password.secretKeyRef.name = secret;
    u.getSpec().password.secretKeyRef.key = "password";
    return u;
  }
}
