package dev.cairn.core.tree;

import java.io.IOException;
import java.nio.file.Path;

/** A device, socket or fifo was met where only files, directories and symlinks can be stored. */
public final class SpecialFileException extends IOException {
  public SpecialFileException(Path path, String kind) {
    super(path + ": is a " + kind + "; only regular files, directories and symlinks can be stored");
  }
}
