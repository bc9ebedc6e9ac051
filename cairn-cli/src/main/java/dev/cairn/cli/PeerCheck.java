package dev.cairn.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Checks, from {@code /proc}, that a loopback TCP client of the store service is a process of this
 * user that shares the service's mount namespace. The token proves only that the client could read
 * the rendezvous file; a sandboxed process (its own mount namespace, the host's network, the
 * store readable) could, and must not get imports or exports run with the service's view of the
 * file system. Linux only: anything it cannot establish counts as a problem, and the client then
 * runs the command itself. Confinement that keeps the mount namespace and root (Landlock,
 * seccomp, AppArmor) is not seen: such a process could have the service read or write what it
 * may not itself, within what the user may.
 */
final class PeerCheck {

  /** 127.0.0.1 as /proc/net/tcp prints it, and as /proc/net/tcp6 prints it IPv4-mapped. */
  private static final List<String> LOOPBACK_HEX =
      List.of("0100007F", "0000000000000000FFFF00000100007F");

  private PeerCheck() {}

  /**
   * Why the client on 127.0.0.1:{@code peerPort}, connected to our {@code localPort}, and naming
   * itself process {@code pidText}, is not one this service may serve; empty if it is: the socket
   * belongs to this user, process {@code pidText} holds it open, and that process's mount namespace
   * is ours.
   */
  static Optional<String> problem(int peerPort, int localPort, String pidText) {
    if (pidText == null || !pidText.matches("[1-9][0-9]{0,9}")) {
      return Optional.of("the client did not say its process id");
    }
    try {
      String inode = null;
      String uid = null;
      String localPortHex = ":" + String.format(Locale.ROOT, "%04X", peerPort);
      String remotePortHex = ":" + String.format(Locale.ROOT, "%04X", localPort);
      // A bash client's socket is IPv4 (tcp); a JVM's is IPv6 with mapped addresses (tcp6).
      for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
        for (String line : Files.readAllLines(Path.of(table), StandardCharsets.US_ASCII)) {
          String[] f = line.trim().split("\\s+");
          if (f.length > 9 && f[1].endsWith(localPortHex) && f[2].endsWith(remotePortHex)
              && LOOPBACK_HEX.contains(f[1].substring(0, f[1].length() - 5))
              && LOOPBACK_HEX.contains(f[2].substring(0, f[2].length() - 5))) {
            uid = f[7];
            inode = f[9];
            break;
          }
        }
        if (inode != null) {
          break;
        }
      }
      if (inode == null || inode.equals("0")) {
        return Optional.of("no socket of the client's connection in /proc/net/tcp");
      }
      Self self = self();
      if (!uid.equals(self.uid())) {
        return Optional.of("the client's socket belongs to uid " + uid + ", not " + self.uid());
      }
      Path process = Path.of("/proc", pidText);
      if (!holds(process.resolve("fd"), "socket:[" + inode + "]")) {
        return Optional.of("process " + pidText + " does not hold the client's socket");
      }
      String theirs = Files.readSymbolicLink(process.resolve("ns/mnt")).toString();
      if (!theirs.equals(self.mountNamespace())) {
        return Optional.of("the client is in another mount namespace (" + theirs + ")");
      }
      if (!Files.readSymbolicLink(process.resolve("root")).equals(self.root())) {
        return Optional.of("the client has another root directory (chroot)");
      }
      return Optional.empty();
    } catch (IOException | RuntimeException e) {
      return Optional.of("cannot check the client in /proc: " + e);
    }
  }

  /** This process's uid, mount namespace and root: the same for its life, so read once. */
  private record Self(String uid, String mountNamespace, Path root) {}

  private static volatile Self self;

  private static Self self() throws IOException {
    Self s = self;
    if (s == null) {
      s = new Self(String.valueOf(Files.getAttribute(Path.of("/proc/self"), "unix:uid")),
          Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString(),
          Files.readSymbolicLink(Path.of("/proc/self/root")));
      self = s;
    }
    return s;
  }

  private static boolean holds(Path fdDir, String target) throws IOException {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(fdDir)) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(target)) {
            return true;
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    return false;
  }
}
