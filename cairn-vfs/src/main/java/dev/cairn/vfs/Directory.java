package dev.cairn.vfs;

import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;

/**
 * A tree of directories, files and symlinks that build tools and Cairn's adapters (FUSE, WebDAV,
 * the CLI) edit instead of paths on disk. Every backend behaves the same: an OS directory, an
 * immutable Merkle tree in a CAS, a copy-on-write overlay. {@link #snapshot()} gives the tree's
 * root digest, equal for equal content whatever the backend.
 *
 * <p>Semantics follow {@code cp -a}, {@code mv} and {@code rm -r} on Linux where they apply (see
 * docs/DIRECTORY-API.md): symlinks are never followed, not even in the middle of a path (that is
 * a {@link java.nio.file.NotDirectoryException}); errors are the {@code java.nio.file} exceptions
 * ({@code NoSuchFileException}, {@code FileAlreadyExistsException},
 * {@code DirectoryNotEmptyException}, {@code NotDirectoryException}, {@code FileSystemException})
 * naming the path. An operation that fails changes nothing.
 */
public interface Directory extends AutoCloseable {

  /** What {@code path} names. */
  Node stat(TreePath path) throws IOException;

  /** The entries of a directory, in UTF-8 byte order of their names. */
  List<Entry> list(TreePath directory) throws IOException;

  /** The bytes of a file. The caller closes the stream. */
  InputStream read(TreePath file) throws IOException;

  /**
   * Creates or replaces a file with the bytes {@code content} yields (read to its end, not
   * closed). A new file is not executable; a replaced one keeps its executable bit. The parent
   * must be a directory.
   */
  void write(TreePath file, InputStream content) throws IOException;

  /** Creates a directory; with {@code parents}, also missing parents, and no error if it exists. */
  void mkdir(TreePath directory, boolean parents) throws IOException;

  /** Creates a symbolic link at {@code link} whose target is {@code target}, verbatim. */
  void symlink(String target, TreePath link) throws IOException;

  /** Sets or clears a file's executable bit. */
  void setExecutable(TreePath file, boolean executable) throws IOException;

  /**
   * Copies a file, symlink or whole directory, like {@code cp -a}: if {@code target} is an
   * existing directory the copy goes inside it under the source's name; otherwise {@code target}
   * is the new name, and an existing file there is replaced (a directory cannot replace a file).
   */
  void copy(TreePath source, TreePath target) throws IOException;

  /**
   * Moves or renames, like {@code mv}: into an existing directory under the source's name, else
   * to {@code target}, replacing a file or an empty directory there. Moving a directory into
   * itself is an error.
   */
  void move(TreePath source, TreePath target) throws IOException;

  /**
   * Renames with the semantics of POSIX {@code rename(2)} (and Linux {@code renameat2(2)} flags),
   * which file-system adapters such as FUSE need; unlike {@link #move} it never moves "into" an
   * existing directory. {@code target} names the new entry itself:
   *
   * <ul>
   *   <li>a file or symlink replaces a file or symlink; a directory replaces an empty directory
   *       (else {@link java.nio.file.DirectoryNotEmptyException});
   *   <li>a directory onto a non-directory is {@link java.nio.file.NotDirectoryException}, a
   *       non-directory onto a directory {@link IsDirectoryException};
   *   <li>the same path for both is a no-op; a directory into its own subtree, or the root, is
   *       {@link InvalidOperationException};
   *   <li>a missing source or target parent is {@link java.nio.file.NoSuchFileException};
   *   <li>{@link RenameOption#NO_REPLACE}: {@link java.nio.file.FileAlreadyExistsException} if
   *       {@code target} exists; {@link RenameOption#EXCHANGE}: swaps the two entries, which
   *       must both exist.
   * </ul>
   */
  void rename(TreePath source, TreePath target, java.util.Set<RenameOption> options) throws IOException;

  /** Removes a file or symlink, an empty directory, or with {@code recursive} any directory. */
  void remove(TreePath path, boolean recursive) throws IOException;

  /** Copies a local file or directory tree into the tree at {@code target}, as {@link #copy} would. */
  void importFrom(Path local, TreePath target) throws IOException;

  /** Writes the node at {@code source} out to the local path {@code local}, which must not exist. */
  void exportTo(TreePath source, Path local) throws IOException;

  /** The root digest of the tree as it is now; stores every blob the digest refers to. */
  Digest snapshot() throws IOException;

  @Override
  default void close() throws IOException {}
}
