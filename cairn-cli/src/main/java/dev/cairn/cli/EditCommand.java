package dev.cairn.cli;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.vfs.CasDirectory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cairn edit ROOT --script FILE}: applies a script of tree operations to a stored tree and
 * prints the new root digest. It edits the Merkle tree in place in the store, so a change to one
 * file of a large tree costs the directories on its path, not an export and a re-import.
 */
@Command(
    name = "edit",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Apply a script of operations to a stored tree and print the new root digest.",
      "One operation per line, applied in order; blank lines and lines starting with # are"
          + " ignored:",
      "  mkdir PATH              create a directory and missing parents (mkdir -p)",
      "  copy SRC DST            cp -a: a file, symlink or tree; into DST if a dir",
      "  move SRC DST            move or rename (mv)",
      "  remove PATH             remove a file, symlink or whole tree (rm -r)",
      "  import LOCALPATH DST    copy a local file or tree in, as copy does",
      "  write PATH LOCALFILE    create or replace a file with a local file's bytes",
      "  symlink TARGET PATH     create a symlink (ln -s); TARGET is kept verbatim",
      "  chmod +x|-x PATH        set or clear the executable bit",
      "PATHs are relative to the tree's root and may not contain '.', '..' or empty components."
          + " Local paths are relative to the current directory.",
      "Arguments are separated by blanks. Quote an argument with \"...\" to include blanks; a"
          + " backslash takes the next character literally (\\\" and \\\\ inside quotes), e.g."
          + " copy \"my dir/a b\" \"x\\\"y\".",
      "All or nothing: the whole script is checked first (exit 2 naming the line for an"
          + " unknown operation, wrong arguments or a bad path), and if an operation fails"
          + " (exit 1, naming the line and the reason) no digest is printed."
    })
final class EditCommand implements Callable<Integer> {

  @picocli.CommandLine.ParentCommand private CairnCommand cairn;

  @Spec private CommandSpec spec;

  @Parameters(index = "0", paramLabel = "ROOT", converter = DigestConverter.class,
      description = "The root digest of the tree to edit.")
  private Digest root;

  @Option(names = "--script", required = true, paramLabel = "FILE|-",
      description = "The script to run; - reads it from standard input.")
  private String script;

  @Override
  public Integer call() throws IOException {
    EditScript parsed;
    try {
      parsed = EditScript.parse(readScript());
    } catch (EditScript.SyntaxException e) {
      throw new ParameterException(spec.commandLine(), "script " + scriptName() + ", " + e.getMessage());
    }
    Digest edited;
    try (BlobStore store = cairn.openBlobStore()) {
      CasDirectory tree = CasDirectory.open(store, root);
      parsed.applyTo(tree);
      edited = tree.snapshot();
    }
    cairn.invocation().out().println(edited);
    return 0;
  }

  private String scriptName() {
    return script.equals("-") ? "<stdin>" : script;
  }

  private List<String> readScript() throws IOException {
    if (script.equals("-")) {
      InputStream in = System.in;
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
    return Files.readAllLines(java.nio.file.Path.of(script), StandardCharsets.UTF_8);
  }
}
