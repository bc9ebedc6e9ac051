package dev.cairn.bench;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Writes a disk store's blob files directly, without going through {@code DiskBlobStore.put}, so
 * that a store of a million blobs exists in seconds rather than minutes. Blob {@code i} holds the
 * decimal text of {@code i} and is filed under its real SHA-256 digest, in the layout
 * {@code DiskBlobStore} uses ({@code cas/sha256/<ab>/<hash>-<size>}): every blob is valid, so the
 * store is also a fair fixture for reads, not only for the start-up scan.
 */
public final class SyntheticStore {
  private SyntheticStore() {}

  /** The content of blob {@code i}. */
  public static byte[] content(long i) {
    return Long.toString(i).getBytes(StandardCharsets.US_ASCII);
  }

  /** The digest of blob {@code i}. */
  public static Digest digest(long i) {
    return DigestFunction.SHA256.digestOf(content(i));
  }

  /**
   * Writes blobs {@code 0..count-1} under {@code root} with {@code threads} writers. Existing
   * files are an error: start from an empty or absent directory.
   */
  public static void generate(Path root, int count, int threads) throws IOException {
    Path cas = root.resolve("cas").resolve(DigestFunction.SHA256.cliName());
    for (int shard = 0; shard < 256; shard++) {
      Files.createDirectories(cas.resolve(String.format("%02x", shard)));
    }
    try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
      List<Future<?>> parts = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int first = t;
        parts.add(pool.submit(() -> {
          for (long i = first; i < count; i += threads) {
            byte[] bytes = content(i);
            Digest d = DigestFunction.SHA256.digestOf(bytes);
            Path file = cas.resolve(d.hash().substring(0, 2)).resolve(d.hash() + "-" + d.sizeBytes());
            try {
              Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (IOException e) {
              throw new UncheckedIOException(file.toString(), e);
            }
          }
          return null;
        }));
      }
      for (Future<?> part : parts) {
        try {
          part.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while generating " + root);
        } catch (java.util.concurrent.ExecutionException e) {
          throw e.getCause() instanceof UncheckedIOException u
              ? u.getCause() : new IOException(e.getCause());
        }
      }
    }
  }

  /** Deletes {@code dir} and everything under it (blob files are read-only; root can unlink). */
  public static void delete(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    Files.walkFileTree(dir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
        if (e != null) {
          throw e;
        }
        Files.delete(d);
        return FileVisitResult.CONTINUE;
      }
    });
  }
}
