package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * The rendered gateway document: what the operator writes and the gateway reads, {@code
 * gateway.json} in the config directory. Users may also come from {@link UserList} documents
 * beside it ({@code users-*.json}), so that large gateways can be split across Secrets.
 *
 * @param apiVersion always {@value #API_VERSION}
 * @param kind always {@value #KIND}
 * @param server SSH server settings
 * @param users the users; names are unique across this document and every user list
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record GatewayConfig(
    String apiVersion, String kind, ServerSettings server, List<UserEntry> users) {

  public static final String API_VERSION = "gateway.sftp.dev/v1alpha1";
  public static final String KIND = "GatewayConfig";

  /** A document of the current version. */
  public static GatewayConfig of(ServerSettings server, List<UserEntry> users) {
    return new GatewayConfig(API_VERSION, KIND, server, users);
  }
}
