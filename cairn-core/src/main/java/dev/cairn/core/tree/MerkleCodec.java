package dev.cairn.core.tree;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The canonical encoding of REAPI {@code Directory} messages, which is what makes a tree's root
 * digest a function of its content alone: files, directories and symlinks each sorted by name in
 * UTF-8 byte order, names unique across the three lists, fields serialized in field-number order
 * (protobuf-java's deterministic output for messages without unknown fields).
 *
 * <p>Every Directory read from a store passes {@link #parse}, so code walking a tree can trust the
 * names it meets: nothing in a decoded tree can point outside its root.
 */
public final class MerkleCodec {
  private MerkleCodec() {}

  private static final Comparator<FileNode> FILE_ORDER =
      Comparator.comparing(FileNode::getName, Name.UTF8_ORDER);
  private static final Comparator<DirectoryNode> DIR_ORDER =
      Comparator.comparing(DirectoryNode::getName, Name.UTF8_ORDER);
  private static final Comparator<SymlinkNode> LINK_ORDER =
      Comparator.comparing(SymlinkNode::getName, Name.UTF8_ORDER);

  /** The same directory with each list sorted canonically. Does not check names. */
  public static Directory canonicalize(Directory dir) {
    List<FileNode> files = new ArrayList<>(dir.getFilesList());
    List<DirectoryNode> dirs = new ArrayList<>(dir.getDirectoriesList());
    List<SymlinkNode> links = new ArrayList<>(dir.getSymlinksList());
    files.sort(FILE_ORDER);
    dirs.sort(DIR_ORDER);
    links.sort(LINK_ORDER);
    Directory.Builder b = Directory.newBuilder().addAllFiles(files).addAllDirectories(dirs)
        .addAllSymlinks(links);
    if (dir.hasNodeProperties()) {
      b.setNodeProperties(dir.getNodeProperties());
    }
    return b.build();
  }

  /** The canonical bytes of {@code dir} (which must already be canonical). */
  public static byte[] encode(Directory dir) {
    return dir.toByteArray();
  }

  public static Digest digestOf(Directory dir, DigestFunction function) {
    return function.digestOf(encode(dir));
  }

  /**
   * Decodes a Directory blob and checks it.
   *
   * @param where the digest or path it came from, for error messages
   * @throws InvalidTreeException if the bytes do not parse or the message is not canonical
   */
  public static Directory parse(byte[] bytes, String where) throws InvalidTreeException {
    Directory dir;
    try {
      dir = Directory.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new InvalidTreeException(where + ": not a Directory message: " + e.getMessage(), e);
    }
    validate(dir, where);
    return dir;
  }

  /**
   * Checks that every name is valid and that each list is strictly sorted in UTF-8 order, with no
   * name in two lists, every digest valid and every symlink target non-empty without NUL.
   */
  public static void validate(Directory dir, String where) throws InvalidTreeException {
    Set<String> seen = new HashSet<>();
    String previous = null;
    for (FileNode f : dir.getFilesList()) {
      previous = checkName(where, "file", f.getName(), previous, seen);
      checkDigest(where, f.getName(), f.getDigest());
    }
    previous = null;
    for (DirectoryNode d : dir.getDirectoriesList()) {
      previous = checkName(where, "directory", d.getName(), previous, seen);
      checkDigest(where, d.getName(), d.getDigest());
    }
    previous = null;
    for (SymlinkNode s : dir.getSymlinksList()) {
      previous = checkName(where, "symlink", s.getName(), previous, seen);
      if (s.getTarget().isEmpty()) {
        throw new InvalidTreeException(where + ": symlink '" + s.getName() + "' has an empty target");
      }
      if (s.getTarget().indexOf('\0') >= 0) {
        throw new InvalidTreeException(where + ": symlink '" + s.getName() + "' target contains NUL");
      }
    }
  }

  private static String checkName(
      String where, String kind, String name, String previous, Set<String> seen)
      throws InvalidTreeException {
    String problem = Name.problem(name);
    if (problem != null) {
      throw new InvalidTreeException(where + ": " + kind + " entry: " + problem);
    }
    if (previous != null && Name.compareUtf8(previous, name) >= 0) {
      throw new InvalidTreeException(
          where + ": " + kind + " entries not in canonical order: '" + Name.printable(previous)
              + "' before '" + Name.printable(name) + "'");
    }
    if (!seen.add(name)) {
      throw new InvalidTreeException(where + ": duplicate name '" + Name.printable(name) + "'");
    }
    return name;
  }

  private static void checkDigest(
      String where, String name, build.bazel.remote.execution.v2.Digest digest)
      throws InvalidTreeException {
    try {
      Digest.fromProto(digest);
    } catch (IllegalArgumentException e) {
      throw new InvalidTreeException(where + ": entry '" + Name.printable(name) + "': " + e.getMessage());
    }
  }
}
