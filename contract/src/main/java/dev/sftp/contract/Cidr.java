package dev.sftp.contract;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** An IPv4 or IPv6 address range such as {@code 10.0.0.0/8} or {@code 2001:db8::/32}. */
public final class Cidr {
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");
  private static final Pattern IPV6 = Pattern.compile("[0-9a-fA-F:.]+");

  private final byte[] network;
  private final int prefix;
  private final String text;

  private Cidr(byte[] network, int prefix, String text) {
    this.network = network;
    this.prefix = prefix;
    this.text = text;
  }

  /**
   * Parses an IP address literal (IPv4 dotted quad or IPv6), never a name: nothing is looked up.
   *
   * @throws IllegalArgumentException when it is not one
   */
  public static InetAddress address(String literal) {
    if (literal == null) {
      throw new IllegalArgumentException("no address");
    }
    boolean v4 = IPV4.matcher(literal).matches();
    if (!v4 && !(literal.contains(":") && IPV6.matcher(literal).matches())) {
      throw new IllegalArgumentException("'" + literal + "' is not an IPv4 or IPv6 address");
    }
    try {
      InetAddress a = InetAddress.getByName(literal); // a literal: no name lookup
      if (v4 != (a.getAddress().length == 4)) {
        throw new IllegalArgumentException("'" + literal + "' is not a valid address");
      }
      return a;
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + literal + "' is not a valid address");
    }
  }

  /**
   * Parses a range; a bare address is a single host. Never resolves names.
   *
   * @throws IllegalArgumentException with a message saying what is wrong
   */
  /** The prefix length: 0 covers every address of its family. */
  public int prefixLength() {
    return prefix;
  }

  public static Cidr parse(String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException("empty address range");
    }
    String addr = value;
    Integer prefix = null;
    int slash = value.indexOf('/');
    if (slash >= 0) {
      addr = value.substring(0, slash);
      try {
        prefix = Integer.parseInt(value.substring(slash + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("'" + value + "' has no numeric prefix length");
      }
    }
    boolean v4 = IPV4.matcher(addr).matches();
    if (!v4 && !(addr.contains(":") && IPV6.matcher(addr).matches())) {
      throw new IllegalArgumentException("'" + value + "' is not an IPv4 or IPv6 address range");
    }
    byte[] bytes;
    try {
      bytes = InetAddress.getByName(addr).getAddress(); // a literal: no name lookup
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + value + "' is not a valid address");
    }
    if (v4 && bytes.length != 4) {
      throw new IllegalArgumentException("'" + value + "' is not a valid IPv4 address");
    }
    int max = bytes.length * 8;
    int p = prefix == null ? max : prefix;
    if (p < 0 || p > max) {
      throw new IllegalArgumentException(
          "'" + value + "' has prefix length " + p + ", expected 0 to " + max);
    }
    return new Cidr(mask(bytes, p), p, value);
  }

  /** Whether the address lies in this range (IPv4-mapped IPv6 addresses match IPv4 ranges). */
  public boolean contains(InetAddress address) {
    byte[] a = address.getAddress();
    if (a.length == 16 && network.length == 4 && isV4Mapped(a)) {
      byte[] v4 = new byte[4];
      System.arraycopy(a, 12, v4, 0, 4);
      a = v4;
    }
    if (a.length != network.length) {
      return false;
    }
    byte[] masked = mask(a, prefix);
    for (int i = 0; i < masked.length; i++) {
      if (masked[i] != network[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean isV4Mapped(byte[] a) {
    for (int i = 0; i < 10; i++) {
      if (a[i] != 0) {
        return false;
      }
    }
    return a[10] == (byte) 0xff && a[11] == (byte) 0xff;
  }

  private static byte[] mask(byte[] bytes, int prefix) {
    byte[] out = bytes.clone();
    for (int i = 0; i < out.length; i++) {
      int bits = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] = (byte) (out[i] & (0xff << (8 - bits)));
    }
    return out;
  }

  @Override
  public String toString() {
    return text;
  }
}
