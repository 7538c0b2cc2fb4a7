package dev.sftp.contract;

/**
 * One problem in a contract document.
 *
 * @param path JSON path of the offending value, such as {@code $.users[2].authorizedKeys[0]}
 * @param message what is wrong, in a sentence a person can act on
 */
public record ValidationError(String path, String message) {
  @Override
  public String toString() {
    return path + ": " + message;
  }
}
