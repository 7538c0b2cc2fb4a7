package dev.sftp.contract;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.List;

/**
 * Settings of the SSH server itself. Every field has a default so that {@code {}} is valid.
 *
 * @param listenAddress address to bind, default {@code 0.0.0.0}
 * @param port TCP port, default 2222 (the gateway runs as non-root)
 * @param hostKeys host key files relative to the config directory, OpenSSH or PEM format
 * @param dataRoot directory that holds the users' homes; relative paths are resolved against the
 *     config directory; default {@code /data}
 * @param banner text shown before authentication; {@code null} for none
 * @param idleTimeoutSeconds close a session idle this long, default 900; 0 disables
 * @param maxSessions most concurrent connections to the gateway, default 1000
 * @param maxSessionsPerUser most concurrent connections of one user, default 20
 * @param algorithmProfile offered algorithms, default {@link AlgorithmProfile#MODERN}
 * @param setstatMode handling of chmod/times, default {@link SetstatMode#ENFORCE}
 * @param umask octal mask applied to the modes of created files and directories, default {@code
 *     0022}
 * @param fsyncOnClose flush every file written to stable storage when the client closes it
 *     (fsync), default false as in OpenSSH's sftp-server; clients that need it per file ask with
 *     {@code fsync@openssh.com} (OpenSSH {@code sftp -f})
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ServerSettings(
    String listenAddress,
    Integer port,
    List<String> hostKeys,
    String dataRoot,
    String banner,
    Integer idleTimeoutSeconds,
    Integer maxSessions,
    Integer maxSessionsPerUser,
    AlgorithmProfile algorithmProfile,
    SetstatMode setstatMode,
    String umask,
    Boolean fsyncOnClose) {

  public static final int DEFAULT_PORT = 2222;

  public String listenAddressOrDefault() {
    return listenAddress == null ? "0.0.0.0" : listenAddress;
  }

  public int portOrDefault() {
    return port == null ? DEFAULT_PORT : port;
  }

  public List<String> hostKeysOrDefault() {
    return hostKeys == null ? List.of() : hostKeys;
  }

  public String dataRootOrDefault() {
    return dataRoot == null ? "/data" : dataRoot;
  }

  public int idleTimeoutSecondsOrDefault() {
    return idleTimeoutSeconds == null ? 900 : idleTimeoutSeconds;
  }

  public int maxSessionsOrDefault() {
    return maxSessions == null ? 1000 : maxSessions;
  }

  public int maxSessionsPerUserOrDefault() {
    return maxSessionsPerUser == null ? 20 : maxSessionsPerUser;
  }

  public AlgorithmProfile algorithmProfileOrDefault() {
    return algorithmProfile == null ? AlgorithmProfile.MODERN : algorithmProfile;
  }

  public SetstatMode setstatModeOrDefault() {
    return setstatMode == null ? SetstatMode.ENFORCE : setstatMode;
  }

  public boolean fsyncOnCloseOrDefault() {
    return fsyncOnClose != null && fsyncOnClose;
  }

  /** The umask as a number ({@code 0022} gives 18). */
  public int umaskOrDefault() {
    return umask == null ? 0022 : Integer.parseInt(umask, 8);
  }
}
