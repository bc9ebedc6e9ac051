package dev.cairn.asset.git;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.jgit.lib.ProgressMonitor;

/**
 * A JGit progress monitor that cancels a fetch once the pack files being received
 * ({@code incoming_*} under the mirror's {@code objects} directory) hold more than a limit.
 * JGit asks {@link #isCancelled} after each object it receives: the pack file, once found (the
 * directory is listed at most every 20 ms until then), costs one {@code stat} per object. A
 * cancelled fetch makes JGit delete its partial pack, so the mirror keeps only what it had before.
 */
final class PackSizeLimit implements ProgressMonitor {
  private static final long CHECK_EVERY_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final Path objects;
  private final long maxBytes;
  private long lastListing = System.nanoTime() - CHECK_EVERY_NANOS;
  private List<Path> incoming = List.of();
  private volatile boolean exceeded;

  PackSizeLimit(Path objects, long maxBytes) {
    this.objects = objects;
    this.maxBytes = maxBytes;
  }

  /** Whether the fetch was cancelled for its size. */
  boolean exceeded() {
    return exceeded;
  }

  @Override
  public boolean isCancelled() {
    if (exceeded) {
      return true;
    }
    long now = System.nanoTime();
    if (incoming.isEmpty() && now - lastListing >= CHECK_EVERY_NANOS) {
      lastListing = now;
      incoming = list();
    }
    long total = 0;
    for (Path f : incoming) {
      try {
        total += Files.size(f);
      } catch (IOException e) {
        // gone: JGit renamed it into place or removed it
      }
    }
    if (total > maxBytes) {
      exceeded = true;
    }
    return exceeded;
  }

  private List<Path> list() {
    List<Path> found = new ArrayList<>();
    for (Path dir : new Path[] {objects, objects.resolve("pack")}) {
      try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "incoming_*")) {
        files.forEach(found::add);
      } catch (IOException e) {
        // no such directory (yet): nothing there
      }
    }
    return found;
  }

  @Override
  public void start(int totalTasks) {}

  @Override
  public void beginTask(String title, int totalWork) {}

  @Override
  public void update(int completed) {}

  @Override
  public void endTask() {}

  @Override
  public void showDuration(boolean enabled) {}
}
