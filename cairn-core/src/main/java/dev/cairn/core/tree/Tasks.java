package dev.cairn.core.tree;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

/** Waiting for the parallel per-file tasks of import and export, with their I/O errors intact. */
final class Tasks {
  private Tasks() {}

  /**
   * The task's result; its IOException is rethrown as is, anything else wrapped with the path.
   *
   * @param what the operation, for the interruption message ("importing", "exporting")
   */
  static <T> T await(Future<T> future, Path path, String what) throws IOException {
    try {
      return future.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("interrupted while " + what + " " + path);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IOException io) {
        throw io;
      }
      if (cause instanceof UncheckedIOException u) {
        throw u.getCause();
      }
      throw new IOException(path + ": " + cause, cause);
    }
  }
}
