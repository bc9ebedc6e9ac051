package dev.cairn.asset.archive;

import dev.cairn.asset.archive.InvalidArchiveException.Reason;
import dev.cairn.core.tree.Name;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * An archive entry's path split into checked components: no {@code ..}, not absolute, no NUL,
 * valid names only. Empty and {@code .} components are dropped, as tar extraction does, so
 * {@code ./a//b/} is {@code a/b}. An empty list is the archive's root.
 */
record EntryPath(List<String> components, String raw) {

  /** Linux refuses longer names; an entry with one could not be extracted on disk either. */
  static final int MAX_NAME_BYTES = 255;
  /** Deeper paths are refused: the Merkle tree is built recursively. */
  static final int MAX_DEPTH = 1024;

  static EntryPath parse(String raw, String archive) throws InvalidArchiveException {
    if (raw.indexOf('\0') >= 0) {
      throw unsafe(archive, raw, "contains NUL");
    }
    if (raw.startsWith("/")) {
      throw unsafe(archive, raw, "is an absolute path");
    }
    List<String> components = new ArrayList<>();
    for (String part : raw.split("/", -1)) {
      if (part.isEmpty() || part.equals(".")) {
        continue;
      }
      if (part.equals("..")) {
        throw unsafe(archive, raw, "has a '..' component");
      }
      String problem = Name.problem(part);
      if (problem != null) {
        throw unsafe(archive, raw, problem);
      }
      if (part.indexOf('\uFFFD') >= 0) {
        // The decoder turns bytes that are not UTF-8 into U+FFFD: storing that would store
        // another name than the archive holds (MerkleTreeBuilder refuses such names too).
        throw unsafe(archive, raw, "name is not valid UTF-8");
      }
      if (part.getBytes(StandardCharsets.UTF_8).length > MAX_NAME_BYTES) {
        throw unsafe(archive, raw, "a component is longer than " + MAX_NAME_BYTES + " bytes");
      }
      components.add(part);
      if (components.size() > MAX_DEPTH) {
        throw unsafe(archive, raw, "is more than " + MAX_DEPTH + " directories deep");
      }
    }
    return new EntryPath(List.copyOf(components), raw);
  }

  boolean isRoot() {
    return components.isEmpty();
  }

  String name() {
    return components.getLast();
  }

  /** The path as it is stored: components joined with {@code /}. */
  String joined(int count) {
    return String.join("/", components.subList(0, count));
  }

  static InvalidArchiveException unsafe(String archive, String raw, String problem) {
    return new InvalidArchiveException(
        Reason.UNSAFE_ENTRY, archive + ": entry '" + printable(raw) + "' refused: " + problem);
  }

  /** The text with control characters escaped and cut at 300 characters, for messages. */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), 300));
    for (int i = 0; i < s.length() && b.length() < 300; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c == 0x7f) {
        b.append(String.format("\\x%02x", (int) c));
      } else {
        b.append(c);
      }
    }
    return s.length() > 300 ? b + "..." : b.toString();
  }
}
