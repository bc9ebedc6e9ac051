package dev.cairn.asset;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Set;

/**
 * The default {@link OriginPolicy}: an origin may be contacted only if every address its host
 * resolves to is a public unicast address. Refused: loopback, unspecified, private (10/8,
 * 172.16/12, 192.168/16, fc00::/7), link-local (169.254/16, fe80::/10), CGNAT (100.64/10),
 * multicast, broadcast and reserved ranges, and the cloud metadata addresses (169.254.169.254,
 * fd00:ec2::254, 100.100.100.200). The fetcher asks again for every redirect hop.
 *
 * <p>With {@code allowPrivate} (for origins on the local network, and tests) only the metadata
 * addresses stay refused: no build source lives there, and reaching them from a server leaks its
 * cloud credentials.
 *
 * <p>Hosts are resolved with the JVM's resolver, whose positive cache (30 s by default) the HTTP
 * client then uses too, which narrows a DNS-rebinding window to a record that changes inside it.
 */
public final class PublicAddressPolicy implements OriginPolicy {
  private static final Set<String> METADATA = Set.of("169.254.169.254", "fd00:ec2:0:0:0:0:0:254", "100.100.100.200");

  private final boolean allowPrivate;

  public PublicAddressPolicy(boolean allowPrivate) {
    this.allowPrivate = allowPrivate;
  }

  @Override
  public void check(URI uri) throws OriginRefusedException, FetchException {
    String host = uri.getHost();
    if (host == null || host.isEmpty()) {
      throw new OriginRefusedException(uri.toString(), uri + ": no host to fetch from");
    }
    InetAddress[] addresses;
    try {
      addresses = InetAddress.getAllByName(host);
    } catch (UnknownHostException e) {
      throw new FetchException(FetchException.Reason.NOT_FOUND, uri.toString(), uri + ": unknown host '" + host + "'");
    }
    for (InetAddress a : addresses) {
      String why = refusal(a);
      if (why != null) {
        throw new OriginRefusedException(uri.toString(), "refusing to fetch " + uri + ": " + host
            + " resolves to " + a.getHostAddress() + ", " + why
            + (why.contains("metadata") ? "" : " (cairn serve --asset-allow-private permits it)"));
      }
    }
  }

  /** Why {@code a} is refused, or null if it may be contacted. */
  public String refusal(InetAddress a) {
    if (METADATA.contains(a.getHostAddress())) {
      return "a cloud metadata address";
    }
    if (allowPrivate) {
      return null;
    }
    if (a.isAnyLocalAddress()) {
      return "the unspecified address";
    }
    if (a.isLoopbackAddress()) {
      return "a loopback address";
    }
    if (a.isLinkLocalAddress()) {
      return "a link-local address";
    }
    if (a.isMulticastAddress()) {
      return "a multicast address";
    }
    byte[] b = a.getAddress();
    if (a instanceof Inet4Address) {
      int b0 = b[0] & 0xff;
      int b1 = b[1] & 0xff;
      if (b0 == 10 || (b0 == 172 && (b1 & 0xf0) == 16) || (b0 == 192 && b1 == 168)) {
        return "a private address";
      }
      if (b0 == 100 && (b1 & 0xc0) == 64) {
        return "a carrier-grade NAT address";
      }
      if (b0 == 0 || b0 >= 240 || (b0 == 192 && b1 == 0 && (b[2] & 0xff) == 0)
          || (b0 == 198 && (b1 & 0xfe) == 18)) {
        return "a reserved address";
      }
      return null;
    }
    if (a instanceof Inet6Address) {
      int b0 = b[0] & 0xff;
      if ((b0 & 0xfe) == 0xfc) {
        return "a private (unique local) address";
      }
      if (b0 == 0xfe && (b[1] & 0xc0) == 0xc0) {
        return "a site-local address";
      }
      // IPv4-mapped/compatible and NAT64 forms carry an IPv4 address: judge that one.
      boolean embedsV4 = isZero(b, 0, 10) && (((b[10] & 0xff) == 0xff && (b[11] & 0xff) == 0xff)
          || isZero(b, 10, 12));
      boolean nat64 = (b0 == 0x00 && (b[1] & 0xff) == 0x64 && (b[2] & 0xff) == 0xff && (b[3] & 0xff) == 0x9b);
      if (embedsV4 || nat64) {
        try {
          InetAddress v4 = InetAddress.getByAddress(new byte[] {b[12], b[13], b[14], b[15]});
          String why = refusal(v4);
          return why == null ? null : why + " (embedded in " + a.getHostAddress() + ")";
        } catch (UnknownHostException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return null;
  }

  private static boolean isZero(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      if (b[i] != 0) {
        return false;
      }
    }
    return true;
  }
}
