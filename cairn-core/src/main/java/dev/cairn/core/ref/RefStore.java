package dev.cairn.core.ref;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Named trees: a ref maps a name such as {@code team/app-inputs} to a root Directory digest.
 * Kept as Remote Asset mappings with the URI {@code urn:cairn:ref:NAME}, in the local asset index
 * or on a server; {@code cairn mount ref:NAME} resolves one and a writable mount's flush policy
 * publishes one.
 */
public interface RefStore {

  /** Letters, digits, {@code . _ - /}; no empty, {@code .} or {@code ..} segment; at most 255 bytes. */
  Pattern NAME = Pattern.compile("[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*");

  /** The URI a ref is stored under as a Remote Asset mapping. */
  static String uri(String name) {
    return "urn:cairn:ref:" + validate(name);
  }

  /** Returns {@code name} if it is a valid ref name, else throws naming the problem. */
  static String validate(String name) {
    if (name == null || name.length() > 255 || !NAME.matcher(name).matches()) {
      throw new IllegalArgumentException("invalid ref name '" + name
          + "': use letters, digits, '.', '_', '-' and '/' between non-empty segments");
    }
    for (String segment : name.split("/")) {
      if (segment.equals(".") || segment.equals("..")) {
        throw new IllegalArgumentException("invalid ref name '" + name + "': '" + segment + "' segment");
      }
    }
    return name;
  }

  /** The digest {@code name} points to, or empty if no such ref exists (or it expired). */
  Optional<Digest> get(String name) throws IOException;

  /** Points {@code name} at {@code root}, creating or replacing the ref. */
  void set(String name, Digest root) throws IOException;
}
