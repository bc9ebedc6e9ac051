package dev.cairn.cli;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.Name;
import dev.cairn.core.tree.TreeWalker;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * One line of {@code ls} / {@code tree} output: mode, size, digest, name, the way {@code ls -l}
 * reads. Directories show the size of their Directory message (what their digest addresses),
 * symlinks the length of their target and {@code -} for a digest. Control characters in names
 * are shown as {@code \xNN} so that a hostile name cannot forge lines or move the cursor.
 *
 * @param mode {@code drwxr-xr-x}, {@code -rwxr-xr-x}, {@code -rw-r--r--} or {@code lrwxrwxrwx}
 * @param name the entry's name within its directory
 * @param digest the entry's digest, or null for a symlink
 * @param target the symlink target, or null
 */
record Listing(String mode, String name, long size, Digest digest, String target) {

  /** Merges entry kinds in one name order (UTF-8 byte order, as the tree stores them). */
  static final Comparator<Listing> BY_NAME = Comparator.comparing(Listing::name, Name.UTF8_ORDER);

  static Listing directory(String name, Digest digest) {
    return new Listing("drwxr-xr-x", name, digest.sizeBytes(), digest, null);
  }

  static Listing file(String name, FileNode node) {
    Digest digest = Digest.fromProto(node.getDigest());
    return new Listing(
        node.getIsExecutable() ? "-rwxr-xr-x" : "-rw-r--r--", name, digest.sizeBytes(), digest,
        null);
  }

  static Listing symlink(String name, SymlinkNode node) {
    String target = node.getTarget();
    return new Listing(
        "lrwxrwxrwx", name, target.getBytes(StandardCharsets.UTF_8).length, null, target);
  }

  /** The entry a resolved path names, shown under {@code name}. */
  static Listing of(String name, TreeWalker.Entry entry) {
    return switch (entry) {
      case TreeWalker.DirectoryEntry d -> directory(name, d.digest());
      case TreeWalker.FileEntry f -> file(name, f.node());
      case TreeWalker.SymlinkEntry s -> symlink(name, s.node());
    };
  }

  /** Every entry of a directory, in name order. */
  static List<Listing> entries(Directory dir) {
    List<Listing> all = new ArrayList<>(
        dir.getFilesCount() + dir.getDirectoriesCount() + dir.getSymlinksCount());
    for (DirectoryNode d : dir.getDirectoriesList()) {
      all.add(directory(d.getName(), Digest.fromProto(d.getDigest())));
    }
    for (FileNode f : dir.getFilesList()) {
      all.add(file(f.getName(), f));
    }
    for (SymlinkNode s : dir.getSymlinksList()) {
      all.add(symlink(s.getName(), s));
    }
    all.sort(BY_NAME);
    return all;
  }

  boolean isDirectory() {
    return mode.charAt(0) == 'd';
  }

  /** The line, with {@code path} in the name column (the name itself, or a longer path). */
  String line(String path) {
    String shown = target == null ? printable(path) : printable(path) + " -> " + printable(target);
    return String.format(
        Locale.ROOT, "%s %12d %s %s", mode, size, digest == null ? "-" : digest, shown);
  }

  String line() {
    return line(name);
  }

  private static String printable(String s) {
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        if (b == null) {
          b = new StringBuilder(s.substring(0, i));
        }
        b.append(String.format(Locale.ROOT, "\\x%02x", (int) c));
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? s : b.toString();
  }
}
