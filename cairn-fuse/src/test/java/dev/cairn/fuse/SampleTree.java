package dev.cairn.fuse;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.assertj.core.api.Assertions;

/** A tree with every kind of node a mount must reproduce, and a comparison of two trees. */
final class SampleTree {

  static final int MANY = 1500;

  private SampleTree() {}

  /** Writes the sample tree under {@code root} (which must exist). */
  static void write(Path root) throws IOException {
    Files.writeString(root.resolve("hello.txt"), "hello, world\n");
    Files.writeString(root.resolve("same-as-hello.txt"), "hello, world\n");
    Files.createFile(root.resolve("empty"));
    Path bin = Files.createDirectories(root.resolve("bin"));
    Path script = bin.resolve("run.sh");
    Files.writeString(script, "#!/bin/sh\necho \"ran from $(dirname \"$0\") with $1\"\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(root.resolve("empty-dir"));
    Files.createDirectories(root.resolve("a/b/c/empty-leaf"));
    Files.writeString(root.resolve("a/b/c/deep.txt"), "deep\n");
    Files.writeString(root.resolve("a/b/ünïcødé 名前.txt"), "names are UTF-8\n");
    Files.createSymbolicLink(root.resolve("link-to-hello"), Path.of("hello.txt"));
    Files.createSymbolicLink(root.resolve("a/dangling"), Path.of("../does/not/exist"));
    Files.createSymbolicLink(root.resolve("abs-link"), Path.of("/etc/hostname"));
    byte[] big = new byte[5 * 1024 * 1024 + 123];
    new Random(42).nextBytes(big);
    Files.write(root.resolve("big.bin"), big);
    Path many = Files.createDirectories(root.resolve("many"));
    for (int i = 0; i < MANY; i++) {
      Files.writeString(many.resolve(String.format("file-with-a-longish-name-%05d.txt", i)),
          "file " + i + "\n");
    }
  }

  /** Asserts that two trees have the same names, types, bytes, executable bits and links. */
  static void assertSameTree(Path expected, Path actual) throws IOException {
    List<String> e = describe(expected);
    List<String> a = describe(actual);
    Assertions.assertThat(a).containsExactlyElementsOf(e);
  }

  private static List<String> describe(Path root) throws IOException {
    List<String> out = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(root)) {
      for (Path p : walk.sorted().toList()) {
        String rel = root.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          out.add("L " + rel + " -> " + Files.readSymbolicLink(p));
        } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
          out.add("D " + rel);
        } else {
          Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p);
          boolean exec = perms.contains(PosixFilePermission.OWNER_EXECUTE);
          byte[] bytes = Files.readAllBytes(p);
          out.add("F " + rel + " " + (exec ? "x" : "-") + " " + bytes.length + " "
              + java.util.HexFormat.of().formatHex(sha256(bytes)));
        }
      }
    }
    return out;
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return java.security.MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }

  static String text(Path p) throws IOException {
    return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
  }
}
