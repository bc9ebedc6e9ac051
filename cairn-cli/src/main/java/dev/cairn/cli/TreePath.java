package dev.cairn.cli;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.Name;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * A place in a stored tree as the user writes it: {@code <hex>/<size>} for the root, or
 * {@code <hex>/<size>/some/path} for an entry below it. The digest is the first two
 * {@code /}-separated parts; the rest is a path of valid {@link Name}s (trailing slashes ignored).
 *
 * @param root the root Directory's digest
 * @param path the path below the root, components joined by {@code /}; empty for the root
 */
public record TreePath(Digest root, String path) {

  /**
   * Parses the argument form.
   *
   * @throws IllegalArgumentException naming the text, when the digest or a component is invalid
   */
  public static TreePath parse(String text) {
    int first = text.indexOf('/');
    int second = first < 0 ? -1 : text.indexOf('/', first + 1);
    String digestText = second < 0 ? text : text.substring(0, second);
    String path = second < 0 ? "" : text.substring(second + 1);
    Digest root = Digest.parse(digestText);
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    if (!path.isEmpty()) {
      for (String part : path.split("/", -1)) {
        String problem = Name.problem(part);
        if (problem != null) {
          throw new IllegalArgumentException("invalid tree path '" + text + "': " + problem);
        }
      }
    }
    return new TreePath(root, path);
  }

  /** Lets picocli read {@code DIGEST[/path]} arguments; a bad one is a usage error. */
  public static final class Converter implements ITypeConverter<TreePath> {
    @Override
    public TreePath convert(String value) {
      try {
        return parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
    }
  }
}
