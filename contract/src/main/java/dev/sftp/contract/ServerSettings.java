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
 * @param maxAuthTries failed authentication attempts a connection may make before it is closed,
 *     default 6 (OpenSSH's {@code MaxAuthTries}); no client message resets the count
 * @param defender bans of source addresses that fail too often ({@link DefenderSettings})
 * @param loginGraceTimeSeconds how long a connection may take to authenticate, default 30
 * @param maxStartups unauthenticated connections, as OpenSSH's {@code start:rate:full}: past
 *     {@code start} a new one is refused with probability {@code rate}%, rising linearly to 100%
 *     at {@code full}; default {@code 64:30:256}
 * @param maxStartupsPerAddress unauthenticated connections from one address, default 10
 * @param maxChannelsPerSession channels (SFTP subsystems) one connection may open, default 10
 *     (OpenSSH's {@code MaxSessions})
 * @param maxOpenHandlesPerChannel files and directories one SFTP channel may hold open, default
 *     1024
 * @param maxSessionsPerAddress authenticated connections from one source address, default 100
 *     (enough for a NAT of many users; OpenSSH has no such limit)
 * @param maxSftpPacketBytes largest SFTP message a client may send, default 262144 (OpenSSH's
 *     sftp-server limit); a longer one closes that SFTP channel
 * @param maxPendingRequestBytes SFTP requests one connection may have received and not yet
 *     processed, in bytes, default 8 MiB; past it the gateway stops reading from that
 *     connection until its requests are processed
 * @param shutdownGraceSeconds on SIGTERM, how long transfers under way may go on while the
 *     gateway accepts no new connection and closes idle ones, default 25 (the operator sets the
 *     pod's termination grace period 5 s above it)
 * @param proxyProtocol the client's address from a load balancer's PROXY header ({@link
 *     ProxyProtocolSettings}), off by default
 * @param uploadMode how uploads reach their names ({@link UploadMode}), default {@link
 *     UploadMode#RESUME}
 * @param userMetrics metrics per user ({@link UserMetricsSettings}), off by default
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
    Boolean fsyncOnClose,
    Integer maxAuthTries,
    DefenderSettings defender,
    Integer loginGraceTimeSeconds,
    String maxStartups,
    Integer maxStartupsPerAddress,
    Integer maxChannelsPerSession,
    Integer maxOpenHandlesPerChannel,
    Integer maxSessionsPerAddress,
    Integer maxSftpPacketBytes,
    Integer maxPendingRequestBytes,
    Integer shutdownGraceSeconds,
    ProxyProtocolSettings proxyProtocol,
    UploadMode uploadMode,
    UserMetricsSettings userMetrics) {

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

  public int maxAuthTriesOrDefault() {
    return maxAuthTries == null ? 6 : maxAuthTries;
  }

  public int loginGraceTimeSecondsOrDefault() {
    return loginGraceTimeSeconds == null ? 30 : loginGraceTimeSeconds;
  }

  public String maxStartupsOrDefault() {
    return maxStartups == null ? "64:30:256" : maxStartups;
  }

  public int maxStartupsPerAddressOrDefault() {
    return maxStartupsPerAddress == null ? 10 : maxStartupsPerAddress;
  }

  public int maxChannelsPerSessionOrDefault() {
    return maxChannelsPerSession == null ? 10 : maxChannelsPerSession;
  }

  public int maxSessionsPerAddressOrDefault() {
    return maxSessionsPerAddress == null ? 100 : maxSessionsPerAddress;
  }

  /** OpenSSH's sftp-server refuses longer messages (SFTP_MAX_MSG_LENGTH). */
  public static final int DEFAULT_MAX_SFTP_PACKET_BYTES = 256 * 1024;

  public int maxSftpPacketBytesOrDefault() {
    return maxSftpPacketBytes == null ? DEFAULT_MAX_SFTP_PACKET_BYTES : maxSftpPacketBytes;
  }

  public int maxPendingRequestBytesOrDefault() {
    return maxPendingRequestBytes == null ? 8 * 1024 * 1024 : maxPendingRequestBytes;
  }

  public ProxyProtocolSettings proxyProtocolOrDefault() {
    return proxyProtocol == null ? new ProxyProtocolSettings(null, null) : proxyProtocol;
  }

  public int shutdownGraceSecondsOrDefault() {
    return shutdownGraceSeconds == null ? 25 : shutdownGraceSeconds;
  }

  public int maxOpenHandlesPerChannelOrDefault() {
    return maxOpenHandlesPerChannel == null ? 1024 : maxOpenHandlesPerChannel;
  }

  /** {@code start:rate:full} (or one number, {@code full}) as three integers. */
  public static int[] parseStartups(String value) {
    String[] p = value.split(":", -1);
    if (p.length == 1) {
      int full = Integer.parseInt(p[0].trim());
      return new int[] {full, 100, full};
    }
    if (p.length != 3) {
      throw new IllegalArgumentException("expected start:rate:full, such as 64:30:256");
    }
    int start = Integer.parseInt(p[0].trim());
    int rate = Integer.parseInt(p[1].trim());
    int full = Integer.parseInt(p[2].trim());
    if (start < 1 || rate < 1 || rate > 100 || full < start) {
      throw new IllegalArgumentException("expected start >= 1, rate from 1 to 100 and full >= start, such as 64:30:256");
    }
    return new int[] {start, rate, full};
  }

  public DefenderSettings defenderOrDefault() {
    return defender == null ? new DefenderSettings(null, null, null, null, null) : defender;
  }

  /** The umask as a number ({@code 0022} gives 18). */
  public int umaskOrDefault() {
    return umask == null ? 0022 : Integer.parseInt(umask, 8);
  }

  public UserMetricsSettings userMetricsOrDefault() {
    return userMetrics == null ? new UserMetricsSettings(null, null) : userMetrics;
  }

  public UploadMode uploadModeOrDefault() {
    return uploadMode == null ? UploadMode.RESUME : uploadMode;
  }

  /** Settings with every field unset (all defaults), to change with {@link Builder}. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder that starts from these settings. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.listenAddress = listenAddress;
    b.port = port;
    b.hostKeys = hostKeys;
    b.dataRoot = dataRoot;
    b.banner = banner;
    b.idleTimeoutSeconds = idleTimeoutSeconds;
    b.maxSessions = maxSessions;
    b.maxSessionsPerUser = maxSessionsPerUser;
    b.algorithmProfile = algorithmProfile;
    b.setstatMode = setstatMode;
    b.umask = umask;
    b.fsyncOnClose = fsyncOnClose;
    b.maxAuthTries = maxAuthTries;
    b.defender = defender;
    b.loginGraceTimeSeconds = loginGraceTimeSeconds;
    b.maxStartups = maxStartups;
    b.maxStartupsPerAddress = maxStartupsPerAddress;
    b.maxChannelsPerSession = maxChannelsPerSession;
    b.maxOpenHandlesPerChannel = maxOpenHandlesPerChannel;
    b.maxSessionsPerAddress = maxSessionsPerAddress;
    b.maxSftpPacketBytes = maxSftpPacketBytes;
    b.maxPendingRequestBytes = maxPendingRequestBytes;
    b.shutdownGraceSeconds = shutdownGraceSeconds;
    b.proxyProtocol = proxyProtocol;
    b.uploadMode = uploadMode;
    b.userMetrics = userMetrics;
    return b;
  }

  /** Builds settings field by field (the record's constructor takes them all, in order). */
  public static final class Builder {
    private String listenAddress;
    private Integer port;
    private List<String> hostKeys;
    private String dataRoot;
    private String banner;
    private Integer idleTimeoutSeconds;
    private Integer maxSessions;
    private Integer maxSessionsPerUser;
    private AlgorithmProfile algorithmProfile;
    private SetstatMode setstatMode;
    private String umask;
    private Boolean fsyncOnClose;
    private Integer maxAuthTries;
    private DefenderSettings defender;
    private Integer loginGraceTimeSeconds;
    private String maxStartups;
    private Integer maxStartupsPerAddress;
    private Integer maxChannelsPerSession;
    private Integer maxOpenHandlesPerChannel;
    private Integer maxSessionsPerAddress;
    private Integer maxSftpPacketBytes;
    private Integer maxPendingRequestBytes;
    private Integer shutdownGraceSeconds;
    private ProxyProtocolSettings proxyProtocol;
    private UploadMode uploadMode;
    private UserMetricsSettings userMetrics;

    public Builder listenAddress(String value) {
      this.listenAddress = value;
      return this;
    }

    public Builder port(Integer value) {
      this.port = value;
      return this;
    }

    public Builder hostKeys(List<String> value) {
      this.hostKeys = value;
      return this;
    }

    public Builder dataRoot(String value) {
      this.dataRoot = value;
      return this;
    }

    public Builder banner(String value) {
      this.banner = value;
      return this;
    }

    public Builder idleTimeoutSeconds(Integer value) {
      this.idleTimeoutSeconds = value;
      return this;
    }

    public Builder maxSessions(Integer value) {
      this.maxSessions = value;
      return this;
    }

    public Builder maxSessionsPerUser(Integer value) {
      this.maxSessionsPerUser = value;
      return this;
    }

    public Builder algorithmProfile(AlgorithmProfile value) {
      this.algorithmProfile = value;
      return this;
    }

    public Builder setstatMode(SetstatMode value) {
      this.setstatMode = value;
      return this;
    }

    public Builder umask(String value) {
      this.umask = value;
      return this;
    }

    public Builder fsyncOnClose(Boolean value) {
      this.fsyncOnClose = value;
      return this;
    }

    public Builder maxAuthTries(Integer value) {
      this.maxAuthTries = value;
      return this;
    }

    public Builder defender(DefenderSettings value) {
      this.defender = value;
      return this;
    }

    public Builder loginGraceTimeSeconds(Integer value) {
      this.loginGraceTimeSeconds = value;
      return this;
    }

    public Builder maxStartups(String value) {
      this.maxStartups = value;
      return this;
    }

    public Builder maxStartupsPerAddress(Integer value) {
      this.maxStartupsPerAddress = value;
      return this;
    }

    public Builder maxChannelsPerSession(Integer value) {
      this.maxChannelsPerSession = value;
      return this;
    }

    public Builder maxOpenHandlesPerChannel(Integer value) {
      this.maxOpenHandlesPerChannel = value;
      return this;
    }

    public Builder maxSessionsPerAddress(Integer value) {
      this.maxSessionsPerAddress = value;
      return this;
    }

    public Builder maxSftpPacketBytes(Integer value) {
      this.maxSftpPacketBytes = value;
      return this;
    }

    public Builder maxPendingRequestBytes(Integer value) {
      this.maxPendingRequestBytes = value;
      return this;
    }

    public Builder shutdownGraceSeconds(Integer value) {
      this.shutdownGraceSeconds = value;
      return this;
    }

    public Builder proxyProtocol(ProxyProtocolSettings value) {
      this.proxyProtocol = value;
      return this;
    }

    public Builder uploadMode(UploadMode value) {
      this.uploadMode = value;
      return this;
    }

    public Builder userMetrics(UserMetricsSettings value) {
      this.userMetrics = value;
      return this;
    }

    public ServerSettings build() {
      return new ServerSettings(listenAddress, port, hostKeys, dataRoot, banner, idleTimeoutSeconds, maxSessions, maxSessionsPerUser, algorithmProfile, setstatMode, umask, fsyncOnClose, maxAuthTries, defender, loginGraceTimeSeconds, maxStartups, maxStartupsPerAddress, maxChannelsPerSession, maxOpenHandlesPerChannel, maxSessionsPerAddress, maxSftpPacketBytes, maxPendingRequestBytes, shutdownGraceSeconds, proxyProtocol, uploadMode, userMetrics);
    }
  }
}
