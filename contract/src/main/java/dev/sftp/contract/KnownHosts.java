package dev.sftp.contract;

import java.util.List;

/** {@code known_hosts} lines, as OpenSSH reads them, for a gateway's host keys. */
public final class KnownHosts {
  private KnownHosts() {}

  /** The host as known_hosts names it: {@code host} on port 22, {@code [host]:port} otherwise. */
  public static String hostPattern(String host, int port) {
    return port == 22 ? host : "[" + host + "]:" + port;
  }

  /**
   * One line per public key.
   *
   * @param publicKeyLines {@code type base64} public key lines
   */
  public static String lines(String host, int port, List<String> publicKeyLines) {
    String h = hostPattern(host, port);
    StringBuilder sb = new StringBuilder();
    for (String k : publicKeyLines) {
      sb.append(h).append(' ').append(k).append('\n');
    }
    return sb.toString();
  }
}
