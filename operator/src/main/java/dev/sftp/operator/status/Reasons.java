package dev.sftp.operator.status;

/**
 * Every condition reason the operator sets that is not a contract rule (those come from {@link
 * dev.sftp.contract.ValidationError.Reason#conditionReason()}, such as {@code InvalidPublicKey},
 * {@code InvalidPassword} or {@code UsernameConflict}): one spelling each.
 */
public final class Reasons {
  private Reasons() {}

  // SftpGateway
  public static final String AVAILABLE = "Available";
  public static final String HOST_KEY_SECRET_NOT_FOUND = "HostKeySecretNotFound";
  public static final String HOST_KEY_SECRET_INVALID = "HostKeySecretInvalid";
  public static final String SERVER_SETTINGS_INVALID = "ServerSettingsInvalid";
  public static final String STORAGE_ACCESS_MODE_INVALID = "StorageAccessModeInvalid";
  public static final String STORAGE_CLAIM_NOT_FOUND = "StorageClaimNotFound";
  public static final String STORAGE_CLAIM_PENDING = "StorageClaimPending";
  public static final String DEPLOYMENT_CREATED = "DeploymentCreated";
  public static final String DEPLOYMENT_UNAVAILABLE = "DeploymentUnavailable";
  public static final String DISRUPTION_BUDGET_UNSUPPORTED = "DisruptionBudgetUnsupported";
  public static final String RECONCILE_ERROR = "ReconcileError";

  // SftpUser: Accepted (rendered into the gateway's contract)
  public static final String ATTACHED = "Attached";
  // SftpUser: Ready (every ready gateway pod serves the rendered entry)
  public static final String SERVED = "Served";
  public static final String RENDER_PENDING = "RenderPending";
  public static final String GATEWAY_UNAVAILABLE = "GatewayUnavailable";
  public static final String LOAD_PENDING = "LoadPending";

  public static final String GATEWAY_NOT_FOUND = "GatewayNotFound";
  public static final String NAMESPACE_NOT_ALLOWED = "NamespaceNotAllowed";
  public static final String HOME_NOT_ALLOWED = "HomeNotAllowed";
  public static final String SECRET_NOT_FOUND = "SecretNotFound";
  public static final String CONFIG_MAP_NOT_FOUND = "ConfigMapNotFound";
  public static final String PASSWORD_HASHING = "PasswordHashing";
  public static final String DISABLED = "Disabled";
  public static final String EXPIRED = "Expired";
}
