package dev.sftp.contract;

/**
 * One problem in a contract document.
 *
 * @param path JSON path of the offending value, such as {@code $.users[2].authorizedKeys[0]}
 * @param reason what kind of problem it is: the operator maps it to a condition reason, the
 *     gateway logs it
 * @param message what is wrong, in a sentence a person can act on
 */
public record ValidationError(String path, Reason reason, String message) {

  /**
   * The kinds of problems, one per rule of the contract. The operator turns a user's first error
   * into its {@code Ready} condition's reason ({@link #conditionReason()}), so a reason is never
   * spelled twice.
   */
  public enum Reason {
    /** The document as a whole: not JSON, wrong apiVersion or kind, unreadable. */
    INVALID_DOCUMENT("InvalidDocument"),
    /** A server setting out of range or of the wrong type. */
    INVALID_SERVER_SETTING("InvalidServerSetting"),
    /** A field the contract does not know, or a value of the wrong JSON type. */
    INVALID_FIELD("InvalidSpec"),
    /** The login name breaks {@link ContractValidator#USER_NAME}. */
    INVALID_USERNAME("InvalidUsername"),
    /** The password hash is not a usable argon2id or bcrypt hash. */
    INVALID_PASSWORD_HASH("InvalidPassword"),
    /** A public key line is malformed or of a refused type or size. */
    INVALID_PUBLIC_KEY("InvalidPublicKey"),
    /** Neither a password hash nor a public key: nobody could log in. */
    NO_CREDENTIALS("NoCredentials"),
    /** The home is missing, absolute or climbs with {@code ..}. */
    INVALID_HOME("InvalidHome"),
    /** The expiry is not an RFC 3339 instant. */
    INVALID_EXPIRY("InvalidExpiry"),
    /** A source address range is not a CIDR. */
    INVALID_SOURCE_CIDR("InvalidSourceCidr"),
    /** An unknown permission name. */
    INVALID_PERMISSION("InvalidPermission"),
    /** A path rule without an absolute path inside the home or without permissions. */
    INVALID_PATH_RULE("InvalidPathRule"),
    /** A quota or bandwidth that is negative, not a whole number, or a bandwidth too low to serve. */
    INVALID_LIMIT("InvalidLimit"),
    /** The same login name appears more than once in one gateway's lists. */
    DUPLICATE_USER("UsernameConflict");

    private final String conditionReason;

    Reason(String conditionReason) {
      this.conditionReason = conditionReason;
    }

    /** The CamelCase reason of a Kubernetes condition for this problem. */
    public String conditionReason() {
      return conditionReason;
    }
  }

  /** The same error at a path with a prefix (a file name) and a suffix on its message. */
  public ValidationError within(String pathPrefix, String messageSuffix) {
    return new ValidationError(pathPrefix + path, reason, message + messageSuffix);
  }

  @Override
  public String toString() {
    return path + ": " + message;
  }
}
