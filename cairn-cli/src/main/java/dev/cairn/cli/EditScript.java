package dev.cairn.cli;

import dev.cairn.vfs.Directory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The script {@code cairn edit} runs: one operation per line, parsed and checked whole before any
 * is applied, so that a typo on line 40 is reported without touching the store. Each operation
 * maps onto one {@link Directory} call; the line number travels with it for error messages.
 *
 * <p>Syntax: arguments are separated by blanks; {@code "..."} quotes an argument (so it may hold
 * blanks or be empty) and a backslash, inside or outside quotes, takes the next character
 * literally. A line whose first non-blank character is {@code #} is a comment.
 */
record EditScript(List<Step> steps) {

  /** A script line that cannot be run: unknown operation, wrong arguments, bad quoting or path. */
  static final class SyntaxException extends Exception {
    SyntaxException(int line, String message) {
      super("line " + line + ": " + message);
    }
  }

  /** One operation with its arguments as written, and the line it came from. */
  record Step(int line, String operation, List<String> args) {}

  /** The operations and their argument names, as help and errors show them. */
  static final Map<String, String> USAGE = Map.of(
      "mkdir", "PATH",
      "copy", "SRC DST",
      "move", "SRC DST",
      "remove", "PATH",
      "import", "LOCALPATH DST",
      "write", "PATH LOCALFILE",
      "symlink", "TARGET PATH",
      "chmod", "+x|-x PATH");

  static EditScript parse(List<String> lines) throws SyntaxException {
    List<Step> steps = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      int line = i + 1;
      List<String> words = split(lines.get(i), line);
      if (words.isEmpty()) {
        continue;
      }
      String op = words.getFirst();
      List<String> args = words.subList(1, words.size());
      String usage = USAGE.get(op);
      if (usage == null) {
        throw new SyntaxException(line, "unknown operation '" + op + "' (expected one of "
            + String.join(", ", USAGE.keySet().stream().sorted().toList()) + ")");
      }
      int expected = usage.split(" ").length;
      if (args.size() != expected) {
        throw new SyntaxException(line, op + " takes " + expected + " argument"
            + (expected == 1 ? "" : "s") + " (" + op + " " + usage + "), got " + args.size());
      }
      if (op.equals("chmod") && !args.get(0).equals("+x") && !args.get(0).equals("-x")) {
        throw new SyntaxException(line, "chmod takes +x or -x, not '" + args.get(0) + "'");
      }
      Step step = new Step(line, op, List.copyOf(args));
      for (int a : treePathArgs(op)) {
        treePath(step, a);
      }
      steps.add(step);
    }
    return new EditScript(List.copyOf(steps));
  }

  /** Applies every step in order; the first failure is reported with its line number. */
  void applyTo(Directory tree) throws IOException {
    for (Step s : steps) {
      try {
        apply(s, tree);
      } catch (IOException | RuntimeException e) {
        throw new IOException("line " + s.line() + ": " + s.operation() + ": "
            + FailureHandler.describe(e), e);
      }
    }
  }

  private static void apply(Step s, Directory tree) throws IOException {
    List<String> a = s.args();
    switch (s.operation()) {
      case "mkdir" -> tree.mkdir(path(s, 0), true);
      case "copy" -> tree.copy(path(s, 0), path(s, 1));
      case "move" -> tree.move(path(s, 0), path(s, 1));
      case "remove" -> tree.remove(path(s, 0), true);
      case "import" -> tree.importFrom(Path.of(a.get(0)), path(s, 1));
      case "write" -> {
        try (var in = java.nio.file.Files.newInputStream(Path.of(a.get(1)))) {
          tree.write(path(s, 0), in);
        }
      }
      case "symlink" -> tree.symlink(a.get(0), path(s, 1));
      case "chmod" -> tree.setExecutable(path(s, 1), a.get(0).equals("+x"));
      default -> throw new IllegalStateException("unchecked operation " + s.operation());
    }
  }

  private static int[] treePathArgs(String op) {
    return switch (op) {
      case "mkdir", "remove", "write" -> new int[] {0};
      case "copy", "move" -> new int[] {0, 1};
      default -> new int[] {1};
    };
  }

  private static dev.cairn.vfs.TreePath path(Step s, int index) {
    try {
      return treePath(s, index);
    } catch (SyntaxException e) {
      throw new IllegalStateException(e); // checked when parsed
    }
  }

  private static dev.cairn.vfs.TreePath treePath(Step s, int index) throws SyntaxException {
    try {
      return dev.cairn.vfs.TreePath.parse(s.args().get(index));
    } catch (IllegalArgumentException e) {
      throw new SyntaxException(s.line(), e.getMessage());
    }
  }

  /** The words of one line; empty for a blank line or a comment. */
  static List<String> split(String text, int line) throws SyntaxException {
    List<String> words = new ArrayList<>();
    StringBuilder word = null;
    boolean quoted = false;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c == '\\') {
        if (++i == text.length()) {
          throw new SyntaxException(line, "backslash at the end of the line");
        }
        word = word == null ? new StringBuilder() : word;
        word.append(text.charAt(i));
      } else if (c == '"') {
        word = word == null ? new StringBuilder() : word;
        quoted = !quoted;
      } else if (!quoted && Character.isWhitespace(c)) {
        if (word != null) {
          words.add(word.toString());
          word = null;
        }
      } else if (!quoted && c == '#' && word == null && words.isEmpty()) {
        return List.of();
      } else {
        word = word == null ? new StringBuilder() : word;
        word.append(c);
      }
    }
    if (quoted) {
      throw new SyntaxException(line, "unterminated double quote");
    }
    if (word != null) {
      words.add(word.toString());
    }
    return words;
  }
}
