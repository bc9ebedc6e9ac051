package dev.cairn.grpc;

import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Partial ByteStream uploads, one file per upload resource name, so that a client that lost its
 * connection can ask how much arrived ({@code QueryWriteStatus}) and continue from there. Nothing
 * here is visible in the CAS: a blob appears only when its upload finishes and verifies. Files
 * untouched for the expiry time are deleted. Put it on the store's file system, so that a
 * finished upload can be renamed into the store instead of copied.
 */
public final class UploadArea {
  private static final Logger LOG = System.getLogger(UploadArea.class.getName());

  private final Path dir;
  private final Duration expiry;
  private final InstantSource clock;
  private final Set<String> active = ConcurrentHashMap.newKeySet();

  public UploadArea(Path dir, Duration expiry, InstantSource clock) throws IOException {
    this.dir = dir;
    this.expiry = expiry;
    this.clock = clock;
    Files.createDirectories(dir);
  }

  /** The partial-upload file for a resource (the same for every attempt at it). */
  Path fileFor(ResourceName resource) {
    String material = resource.instanceName() + "\0" + resource.uploadId() + "\0"
        + resource.compressed() + "\0" + resource.function().cliName() + "\0" + resource.digest();
    String key = DigestFunction.SHA256.digestOf(material.getBytes(StandardCharsets.UTF_8)).hash();
    return dir.resolve(key + ".upload");
  }

  /**
   * Marks an upload as being written. A client that resumes right after losing its connection
   * may arrive before the server has noticed the old stream is gone, so this waits up to {@code
   * patience} for the other stream to let go; false if it does not.
   */
  boolean acquire(Path file, Duration patience) throws java.io.InterruptedIOException {
    String key = file.getFileName().toString();
    long deadline = System.nanoTime() + patience.toNanos();
    while (!active.add(key)) {
      if (System.nanoTime() > deadline) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new java.io.InterruptedIOException("interrupted while waiting for " + key);
      }
    }
    return true;
  }

  void release(Path file) {
    active.remove(file.getFileName().toString());
  }

  /** Deletes partial uploads older than the expiry that no stream is writing. */
  public int expire() {
    int removed = 0;
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.upload")) {
      for (Path f : files) {
        if (active.contains(f.getFileName().toString())) {
          continue;
        }
        try {
          FileTime modified = Files.getLastModifiedTime(f);
          if (modified.toInstant().plus(expiry).isBefore(clock.instant())) {
            Files.deleteIfExists(f);
            removed++;
          }
        } catch (IOException e) {
          LOG.log(Level.DEBUG, "cannot expire " + f, e);
        }
      }
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot list uploads in " + dir, e);
    }
    return removed;
  }

  public Path directory() {
    return dir;
  }
}
