package dev.cairn.core.tree;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Materializes a Merkle tree from a {@link BlobStore} into a local directory: file bytes,
 * executable bits (0755 / 0644), symlinks with their target verbatim, empty directories.
 *
 * <p>The target must be absent or an empty directory. Every entry is created new ({@code O_EXCL}),
 * names come from validated Directory messages, and symlinks are created but never written
 * through, so nothing is ever written outside the target. Files are written in parallel.
 */
public final class TreeExporter {

  private static final Set<PosixFilePermission> EXECUTABLE =
      PosixFilePermissions.fromString("rwxr-xr-x");
  private static final Set<PosixFilePermission> REGULAR = PosixFilePermissions.fromString("rw-r--r--");

  /** What an export wrote. */
  public record Result(long files, long directories, long symlinks, long bytes) {}

  private final BlobStore store;
  private final int parallelism;
  private final Progress progress;

  public TreeExporter(BlobStore store, int parallelism, Progress progress) {
    this.store = Objects.requireNonNull(store, "store");
    if (parallelism < 1) {
      throw new IllegalArgumentException("parallelism must be at least 1, got " + parallelism);
    }
    this.parallelism = parallelism;
    this.progress = Objects.requireNonNull(progress, "progress");
  }

  public TreeExporter(BlobStore store) {
    this(store, Math.max(4, 2 * Runtime.getRuntime().availableProcessors()), Progress.NONE);
  }

  private record PlannedFile(Path path, FileNode node) {}

  /** Exports the tree {@code root} into {@code target}. */
  public Result export(Digest root, Path target) throws IOException {
    prepareTarget(target);
    List<Path> directories = new ArrayList<>();
    List<PlannedFile> files = new ArrayList<>();
    List<SymlinkNode> links = new ArrayList<>();
    List<Path> linkPaths = new ArrayList<>();
    long[] bytes = {0};
    new TreeWalker(store).walk(root, new TreeWalker.Visitor() {
      @Override
      public void directory(String path, Digest digest, Directory directory) {
        if (!path.isEmpty()) {
          directories.add(resolve(target, path));
        }
      }

      @Override
      public void file(String path, FileNode file) {
        files.add(new PlannedFile(resolve(target, path), file));
        bytes[0] += file.getDigest().getSizeBytes();
      }

      @Override
      public void symlink(String path, SymlinkNode symlink) {
        links.add(symlink);
        linkPaths.add(resolve(target, path));
      }
    });
    progress.start("export", files.size(), bytes[0]);
    try {
      for (Path dir : directories) {
        Files.createDirectory(dir);
      }
      for (int i = 0; i < links.size(); i++) {
        Files.createSymbolicLink(linkPaths.get(i), Path.of(links.get(i).getTarget()));
      }
      writeFiles(files);
    } finally {
      progress.finish(); // also on failure: a bar left running would draw for ever
    }
    return new Result(files.size(), directories.size() + 1, links.size(), bytes[0]);
  }

  private static Path resolve(Path target, String relative) {
    // Names were validated by MerkleCodec.parse: no '/', '.', '..' or NUL inside a component.
    return target.resolve(relative);
  }

  private static void prepareTarget(Path target) throws IOException {
    if (Files.exists(target, LinkOption.NOFOLLOW_LINKS) && !Files.isDirectory(target)) {
      throw new FileAlreadyExistsException(target.toString(), null, "exists and is not a directory");
    }
    if (Files.isDirectory(target)) {
      try (var entries = Files.newDirectoryStream(target)) {
        if (entries.iterator().hasNext()) {
          throw new DirectoryNotEmptyException(target.toString());
        }
      }
    } else {
      Files.createDirectories(target);
    }
  }

  private void writeFiles(List<PlannedFile> files) throws IOException {
    if (files.isEmpty()) {
      return;
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(
        Math.min(parallelism, files.size()),
        Thread.ofPlatform().name("cairn-export-", 0).daemon(true).factory())) {
      List<Future<?>> futures = new ArrayList<>(files.size());
      for (PlannedFile f : files) {
        futures.add(pool.submit(() -> {
          writeFile(f);
          return null;
        }));
      }
      try {
        for (int i = 0; i < futures.size(); i++) {
          Tasks.await(futures.get(i), files.get(i).path, "exporting");
        }
      } catch (IOException | RuntimeException e) {
        pool.shutdownNow();
        throw e;
      }
    }
  }

  private void writeFile(PlannedFile f) throws IOException {
    Digest digest = Digest.fromProto(f.node.getDigest());
    long written;
    try (InputStream in = store.openRead(digest, 0);
        OutputStream out = Files.newOutputStream(
            f.path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
            LinkOption.NOFOLLOW_LINKS)) {
      written = in.transferTo(out);
    }
    if (written != digest.sizeBytes()) {
      throw DigestMismatchException.sizeDiffers(digest, written);
    }
    Files.setPosixFilePermissions(f.path, f.node.getIsExecutable() ? EXECUTABLE : REGULAR);
    progress.advance(written);
  }
}
