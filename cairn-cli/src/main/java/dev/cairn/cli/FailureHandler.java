package dev.cairn.cli;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.StoreFullException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Objects;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.IParameterExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/**
 * Turns what went wrong into one line on stderr and an exit status: usage errors exit 2 with a
 * pointer to {@code --help}, failures exit 1 naming the path or digest involved. No stack trace
 * reaches the user unless {@code CAIRN_DEBUG} is set, because a trace says nothing about what to
 * do next.
 */
final class FailureHandler implements IExecutionExceptionHandler, IParameterExceptionHandler {

  static final int ERROR = 1;
  static final int USAGE = 2;

  private final Invocation invocation;

  FailureHandler(Invocation invocation) {
    this.invocation = Objects.requireNonNull(invocation, "invocation");
  }

  @Override
  public int handleParseException(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    invocation.err().println("cairn: " + e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, invocation.err());
    invocation.err().println(
        "Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
    return USAGE;
  }

  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parseResult) {
    invocation.out().flush();
    if (e instanceof Invocation.StdoutClosedException) {
      return ERROR; // the reader went away (e.g. `cairn cat ... | head`): nothing to tell it
    }
    invocation.err().println("cairn: " + describe(e));
    if (invocation.env().containsKey("CAIRN_DEBUG")) {
      e.printStackTrace(invocation.err());
    }
    return ERROR;
  }

  /** One line saying what failed, naming the path or digest; without the {@code cairn: } prefix. */
  static String describe(Throwable e) {
    if (e instanceof UncheckedIOException u) {
      return describe(u.getCause());
    }
    return switch (e) {
      case BlobNotFoundException b -> "blob " + b.digest() + " not found";
      case FileSystemException f when f.getFile() == null -> f.getMessage();
      case NoSuchFileException f -> f.getFile() + ": " + reason(f, "no such file or directory");
      case NotDirectoryException f -> f.getFile() + ": not a directory";
      case DirectoryNotEmptyException f -> f.getFile() + ": directory not empty";
      case FileAlreadyExistsException f -> f.getFile() + ": " + reason(f, "already exists");
      case AccessDeniedException f -> f.getFile() + ": permission denied";
      case FileSystemException f -> f.getFile() + ": " + reason(f, "file system error");
      case StoreFullException s -> "store full: " + s.getMessage();
      case IOException io when io.getMessage() != null -> io.getMessage();
      case IOException io -> io.getClass().getSimpleName();
      default -> "internal error: " + e + " (set CAIRN_DEBUG=1 for a stack trace)";
    };
  }

  private static String reason(FileSystemException f, String fallback) {
    return f.getReason() == null ? fallback : f.getReason();
  }
}
