package dev.cairn.bench;

import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.management.ObjectName;

/**
 * Measures what a {@link DiskBlobStore} holding a million blobs costs at start-up: the wall time
 * of {@code DiskBlobStore.open} and the heap its index keeps. Goals: open within 3 s, index within
 * 100 bytes per blob.
 *
 * <p>Why a plain main and not JMH: start-up is a one-shot event in a fresh JVM (cold JIT, empty
 * heap), and heap retained by the result is not something JMH measures. So each run is a new JVM
 * (this class, re-launched in {@code --child} mode) that times one {@code open}, then weighs the
 * heap with {@link System#gc()} before and after, holding the store. The parent reports medians.
 *
 * <p>Two cases, both with the directory entries in the kernel's cache (the store was just
 * written; dropping caches needs privileges a container does not have): the first open of a store
 * (no LRU snapshot, index built from the listing alone), and an open after a clean close, which
 * also replays the LRU snapshot {@code close()} wrote. The close that writes it is timed too.
 *
 * <p>Usage: {@code java -cp bench/target/benchmarks.jar dev.cairn.bench.StoreStartupBench
 * [--blobs N] [--runs R] [--dir D] [--keep] [--histogram] [--jvm=ARG]...}
 */
public final class StoreStartupBench {
  private StoreStartupBench() {}

  public static void main(String[] args) throws Exception {
    if (args.length > 0 && args[0].equals("--child")) {
      child(args);
      return;
    }
    int blobs = 1_000_000;
    int runs = 5;
    Path dir = null;
    boolean keep = false;
    boolean histogram = false;
    List<String> jvmArgs = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--blobs" -> blobs = Integer.parseInt(args[++i]);
        case "--runs" -> runs = Integer.parseInt(args[++i]);
        case "--dir" -> dir = Path.of(args[++i]);
        case "--keep" -> keep = true;
        case "--histogram" -> histogram = true;
        default -> {
          if (args[i].startsWith("--jvm=")) {
            jvmArgs.add(args[i].substring("--jvm=".length()));
          } else {
            throw new IllegalArgumentException("unknown argument " + args[i]);
          }
        }
      }
    }
    Path store = dir != null ? dir : Files.createTempDirectory(Path.of("/tmp"), "cairn-startup-");
    try {
      run(store, blobs, runs, histogram, jvmArgs);
    } finally {
      if (!keep) {
        long t0 = System.nanoTime();
        SyntheticStore.delete(store);
        System.out.printf("deleted %s in %.1f s%n", store, (System.nanoTime() - t0) / 1e9);
      }
    }
  }

  private static void run(Path store, int blobs, int runs, boolean histogram, List<String> jvmArgs)
      throws Exception {
    System.out.printf("store %s, %,d blobs, %d runs per case, %d cores, JVM args %s%n",
        store, blobs, runs, Runtime.getRuntime().availableProcessors(), jvmArgs);
    if (!Files.exists(store.resolve("cas"))) {
      long t0 = System.nanoTime();
      SyntheticStore.generate(store, blobs, Runtime.getRuntime().availableProcessors());
      System.out.printf("generated %,d blob files in %.1f s%n", blobs, (System.nanoTime() - t0) / 1e9);
    }
    Path lru = store.resolve("cas").resolve(DigestFunction.SHA256.cliName() + ".lru");
    System.out.println("load average before: " + loadAverage());

    List<Map<String, Long>> listing = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      listing.add(launch(store, "list", false, jvmArgs));
      System.out.printf("  directory listing only, run %d: %d ms for %,d names%n",
          r + 1, listing.getLast().get("openMs"), listing.getLast().get("blobs"));
    }

    List<Map<String, Long>> first = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      Files.deleteIfExists(lru);
      first.add(launch(store, "no-close", histogram && r == 0, jvmArgs));
      report("first open (no LRU snapshot)", r, first.getLast());
    }
    Map<String, Long> closing = launch(store, "close", false, jvmArgs);
    report("open + close (writes the LRU snapshot)", 0, closing);
    List<Map<String, Long>> reopen = new ArrayList<>();
    for (int r = 0; r < runs; r++) {
      reopen.add(launch(store, "no-close", false, jvmArgs));
      report("reopen (replays the LRU snapshot)", r, reopen.getLast());
    }
    System.out.printf("LRU snapshot file: %,d bytes%n", Files.size(lru));

    System.out.println("load average after: " + loadAverage());
    System.out.println();
    System.out.printf("listing only: median %d ms (the floor: readdir + one String per name)%n",
        median(listing, "openMs"));
    summary("first open", first, blobs);
    summary("reopen    ", reopen, blobs);
    System.out.printf("close with %,d blobs (writes the snapshot): %d ms%n",
        blobs, closing.get("closeMs"));
  }

  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).strip();
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static void report(String what, int run, Map<String, Long> m) {
    System.out.printf("  %s run %d: open %d ms, index heap %,d bytes, allocated %,d bytes,"
            + " JVM wall %d ms%n",
        what, run + 1, m.get("openMs"), m.get("heapBytes"), m.get("allocatedBytes"),
        m.get("processMs"));
  }

  private static void summary(String what, List<Map<String, Long>> runs, int blobs) {
    long open = median(runs, "openMs");
    long heap = median(runs, "heapBytes");
    long alloc = median(runs, "allocatedBytes");
    long process = median(runs, "processMs");
    System.out.printf("%s: median open %d ms (goal <= 3000: %s), index %,d bytes = %.1f bytes/blob"
            + " (goal <= 100: %s), allocated during open %.0f bytes/blob, whole JVM %d ms%n",
        what, open, open <= 3000 ? "met" : "MISSED", heap, (double) heap / blobs,
        heap <= 100L * blobs ? "met" : "MISSED", (double) alloc / blobs, process);
  }

  private static long median(List<Map<String, Long>> runs, String key) {
    long[] v = runs.stream().mapToLong(m -> m.get(key)).sorted().toArray();
    return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  }

  /** Runs one open in a fresh JVM and returns its figures. */
  private static Map<String, Long> launch(
      Path store, String mode, boolean histogram, List<String> jvmArgs)
      throws IOException, InterruptedException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>();
    cmd.add(java);
    cmd.addAll(jvmArgs);
    cmd.addAll(List.of("-cp", System.getProperty("java.class.path"),
        StoreStartupBench.class.getName(), "--child", store.toString(), mode,
        Boolean.toString(histogram)));
    long t0 = System.nanoTime();
    Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    int exit = p.waitFor();
    long processMs = (System.nanoTime() - t0) / 1_000_000;
    if (exit != 0) {
      throw new IOException("child exited with " + exit + ": " + out);
    }
    Map<String, Long> figures = new HashMap<>();
    for (String line : out.split("\n")) {
      if (line.startsWith("RESULT ")) {
        for (String kv : line.substring(7).trim().split(" ")) {
          String[] p2 = kv.split("=");
          figures.put(p2[0], Long.parseLong(p2[1]));
        }
      } else if (!line.isBlank()) {
        System.out.println("    | " + line);
      }
    }
    figures.put("processMs", processMs);
    return figures;
  }

  // --- child: one open in this JVM ---------------------------------------------------------------

  private static void child(String[] args) throws Exception {
    Path store = Path.of(args[1]);
    if (args[2].equals("list")) {
      long t0 = System.nanoTime();
      long names = listOnly(store.resolve("cas").resolve(DigestFunction.SHA256.cliName()));
      System.out.printf("RESULT openMs=%d heapBytes=0 allocatedBytes=0 blobs=%d closeMs=0%n",
          (System.nanoTime() - t0) / 1_000_000, names);
      return;
    }
    boolean close = args[2].equals("close");
    boolean histogram = Boolean.parseBoolean(args[3]);
    var threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

    long heapBefore = usedHeapAfterGc();
    long alloc0 = threads.getCurrentThreadAllocatedBytes();
    long t0 = System.nanoTime();
    DiskBlobStore opened = DiskBlobStore.open(DiskStoreConfig.at(store));
    long openNanos = System.nanoTime() - t0;
    long allocated = threads.getCurrentThreadAllocatedBytes() - alloc0;
    long heapAfter = usedHeapAfterGc();
    long count = opened.stats().blobCount();
    if (histogram) {
      printHistogram(12);
    }
    long closeNanos = 0;
    if (close) {
      // Use one blob (blob 1 holds "1"), as any real command does: a close with nothing changed
      // since the open keeps the old snapshot and writes nothing.
      opened.findMissing(java.util.List.of(DigestFunction.SHA256.digestOf(
          "1".getBytes(java.nio.charset.StandardCharsets.US_ASCII))));
      long c0 = System.nanoTime();
      opened.close();
      closeNanos = System.nanoTime() - c0;
    }
    Reference.reachabilityFence(opened);
    System.out.printf("RESULT openMs=%d heapBytes=%d allocatedBytes=%d blobs=%d closeMs=%d%n",
        openNanos / 1_000_000, heapAfter - heapBefore, allocated, count, closeNanos / 1_000_000);
  }

  /**
   * The floor under {@code open}: the same two-level directory listing IndexScan does, turning
   * each entry into a name String, with no parsing and no index.
   */
  private static long listOnly(Path cas) throws IOException {
    long names = 0;
    try (var shards = Files.newDirectoryStream(cas)) {
      for (Path shard : shards) {
        if (!Files.isDirectory(shard)) {
          continue;
        }
        try (var blobs = Files.newDirectoryStream(shard)) {
          for (Path blob : blobs) {
            names += blob.getFileName().toString().isEmpty() ? 0 : 1;
          }
        }
      }
    }
    return names;
  }

  /** Heap in use after full collections, i.e. live objects only (G1 and ZGC both honour gc()). */
  private static long usedHeapAfterGc() throws InterruptedException {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      Thread.sleep(50);
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }

  /** The largest classes on the heap, through the platform's DiagnosticCommand MBean. */
  private static void printHistogram(int lines) throws Exception {
    Object text = ManagementFactory.getPlatformMBeanServer().invoke(
        new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
        new Object[] {new String[0]}, new String[] {String[].class.getName()});
    String[] all = text.toString().split("\n");
    System.out.println("heap histogram after open (live objects, largest first):");
    Arrays.stream(all).limit(lines + 2).forEach(l -> System.out.println("  " + l));
  }
}
