package dev.cairn.vfs;

import dev.cairn.core.digest.Digest;
import java.util.Optional;

/**
 * What a path names: a directory, a regular file or a symbolic link; nothing else exists in a
 * tree. Digests are given where a backend knows them without extra work.
 */
public sealed interface Node {

  /** A directory; its digest is that of its canonical Directory message, if known. */
  record Dir(Optional<Digest> digest) implements Node {}

  /** A regular file of {@code size} bytes. */
  record File(long size, boolean executable, Optional<Digest> digest) implements Node {}

  /** A symbolic link; its target is kept verbatim and never followed. */
  record Link(String target) implements Node {}
}
