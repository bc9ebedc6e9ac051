package dev.cairn.vfs.nio;

import dev.cairn.core.digest.Digest;
import dev.cairn.vfs.Directory;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.ClosedFileSystemException;
import java.nio.file.FileStore;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.ReadOnlyFileSystemException;
import java.nio.file.WatchService;
import java.nio.file.attribute.UserPrincipalLookupService;
import java.util.List;
import java.util.Set;

/**
 * A Cairn tree seen as a {@code java.nio.file} file system, so that ordinary Java code ({@code
 * Files.walk}, {@code Files.readString}, {@code Files.copy}...) reads and edits CAS trees. It is a
 * thin adapter over a {@link Directory}: read-only over a {@code CasDirectory}, or writable over
 * an {@code OverlayDirectory} whose {@link #snapshot()} gives the edited tree's digest. Made by
 * {@link CasFileSystems} or {@code FileSystems.newFileSystem(URI.create("cas:<hash>/<size>"),
 * Map.of("store", store))}.
 *
 * <p>As in the Directory API, symbolic links are never followed: attributes describe the link
 * itself whatever the {@code LinkOption}s, and opening a symlink to read it (e.g. {@code
 * Files.readString}) fails with a {@code FileSystemException}. Thread-safe; compound operations
 * ({@code copy} and {@code move} with {@code REPLACE_EXISTING}) are atomic with respect to each
 * other but not to edits made directly on the Directory.
 */
public final class CasFileSystem extends FileSystem {

  private final CasFileSystemProvider provider;
  private final Directory directory;
  private final Digest openedAt;
  private final Path spool; // null if read-only
  private final Runnable onClose;
  private volatile boolean open = true;

  CasFileSystem(CasFileSystemProvider provider, Directory directory, Digest openedAt, Path spool,
      Runnable onClose) {
    this.provider = provider;
    this.directory = directory;
    this.openedAt = openedAt;
    this.spool = spool;
    this.onClose = onClose;
  }

  /**
   * The root digest of the tree as it is now, with every blob it refers to in the store. For a
   * read-only file system that is the digest it was opened at.
   */
  public Digest snapshot() throws IOException {
    checkOpen();
    return isReadOnly() ? openedAt : directory.snapshot();
  }

  /** The digest this file system was opened at; it names the file system in URIs. */
  public Digest openedAt() {
    return openedAt;
  }

  /** The Directory this file system adapts. */
  Directory directory() {
    checkOpen();
    return directory;
  }

  /** Where unfinished writes are spooled; writable file systems only. */
  Path spool() {
    if (spool == null) {
      throw new ReadOnlyFileSystemException();
    }
    return spool;
  }

  void checkOpen() {
    if (!open) {
      throw new ClosedFileSystemException();
    }
  }

  void checkWritable() {
    checkOpen();
    if (spool == null) {
      throw new ReadOnlyFileSystemException();
    }
  }

  URI uri(String absolutePath) {
    try {
      return new URI(CasFileSystemProvider.SCHEME, openedAt + "!" + absolutePath, null);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public CasFileSystemProvider provider() {
    return provider;
  }

  /** Closes the Directory; a writable file system's unsnapshotted edits are dropped. */
  @Override
  public void close() throws IOException {
    if (open) {
      open = false;
      onClose.run();
      directory.close();
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public boolean isReadOnly() {
    return spool == null;
  }

  @Override
  public String getSeparator() {
    return "/";
  }

  @Override
  public Iterable<Path> getRootDirectories() {
    return List.of(getPath("/"));
  }

  @Override
  public Iterable<FileStore> getFileStores() {
    return List.of(new CasFileStore(this));
  }

  @Override
  public Set<String> supportedFileAttributeViews() {
    return CasAttributes.VIEWS;
  }

  @Override
  public CasPath getPath(String first, String... more) {
    StringBuilder b = new StringBuilder(first);
    for (String m : more) {
      if (!m.isEmpty()) {
        b.append('/').append(m);
      }
    }
    return CasPath.parse(this, b.toString());
  }

  /**
   * Glob and regex matchers with the default file system's syntax, matched against the path's
   * text; this relies on the default file system using {@code /} as separator (Linux, macOS).
   */
  @Override
  public PathMatcher getPathMatcher(String syntaxAndPattern) {
    PathMatcher matcher = FileSystems.getDefault().getPathMatcher(syntaxAndPattern);
    return path -> matcher.matches(Path.of(path.toString()));
  }

  @Override
  public UserPrincipalLookupService getUserPrincipalLookupService() {
    throw new UnsupportedOperationException("a CAS tree has no users");
  }

  @Override
  public WatchService newWatchService() {
    throw new UnsupportedOperationException("a CAS tree cannot be watched");
  }

  @Override
  public String toString() {
    return "cas:" + openedAt + (isReadOnly() ? " (read-only)" : " (writable)");
  }
}
