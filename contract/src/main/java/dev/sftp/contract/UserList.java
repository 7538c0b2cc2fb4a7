package dev.sftp.contract;

import java.util.List;

/**
 * A shard of users rendered beside {@link GatewayConfig} ({@code users-*.json}).
 *
 * @param apiVersion always {@value GatewayConfig#API_VERSION}
 * @param kind always {@value #KIND}
 * @param users the users of this shard
 */
public record UserList(String apiVersion, String kind, List<UserEntry> users) {
  public static final String KIND = "UserList";

  public static UserList of(List<UserEntry> users) {
    return new UserList(GatewayConfig.API_VERSION, KIND, users);
  }
}
