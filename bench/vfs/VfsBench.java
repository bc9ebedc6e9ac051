// Benchmarks of the Directory API (cairn-vfs) against a real DiskBlobStore.
//
//   java -cp cairn-cli/target/cairn.jar bench/vfs/VfsBench.java tree   WORKDIR [runs]
//   java -cp cairn-cli/target/cairn.jar bench/vfs/VfsBench.java import SRCDIR WORKDIR [runs]
//
// "tree" builds 111,000 files through the CasDirectory API, then times (1) copy + snapshot of a
// 1k / 10k / 100k-file subtree and (2) an OverlayDirectory write of one deep file + snapshot,
// counting blob-store traffic. "import" times OsDirectory.open(dir, store).snapshot() with a
// fresh store and with a store that already holds everything. Runs are preceded by warm-up
// runs; figures are medians. WORKDIR must not exist yet and is deleted at the end.

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.ForwardingBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import dev.cairn.vfs.CasDirectory;
import dev.cairn.vfs.Node;
import dev.cairn.vfs.OsDirectory;
import dev.cairn.vfs.OverlayDirectory;
import dev.cairn.vfs.TreePath;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/** Counts what reaches the store: file-content puts vs Directory-message puts, and reads. */
final class CountingStore extends ForwardingBlobStore {
  final AtomicLong dirPuts = new AtomicLong();
  final AtomicLong otherPuts = new AtomicLong();
  final AtomicLong gets = new AtomicLong();
  final AtomicLong openReads = new AtomicLong();
  final AtomicLong findMissing = new AtomicLong();
  final Set<Digest> distinctGets = java.util.concurrent.ConcurrentHashMap.newKeySet();

  CountingStore(BlobStore delegate) {
    super(delegate);
  }

  void reset() {
    dirPuts.set(0);
    otherPuts.set(0);
    gets.set(0);
    openReads.set(0);
    findMissing.set(0);
    distinctGets.clear();
  }

  private void count(byte[] bytes) {
    if (bytes != null && looksLikeDirectory(bytes)) {
      dirPuts.incrementAndGet();
    } else {
      otherPuts.incrementAndGet();
    }
  }

  private static boolean looksLikeDirectory(byte[] bytes) {
    try {
      MerkleCodec.parse(bytes, "probe");
      return true;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  @Override
  public void put(Digest digest, InputStream data) throws IOException {
    byte[] bytes = data.readAllBytes(); // small blobs only in this benchmark
    count(bytes);
    delegate.put(digest, new ByteArrayInputStream(bytes));
  }

  @Override
  public void putFile(Digest digest, Path file) throws IOException {
    otherPuts.incrementAndGet();
    delegate.putFile(digest, file);
  }

  @Override
  public void putAll(Map<Digest, byte[]> blobs) throws IOException {
    blobs.values().forEach(this::count);
    delegate.putAll(blobs);
  }

  @Override
  public byte[] get(Digest digest) throws IOException {
    gets.incrementAndGet();
    distinctGets.add(digest);
    return delegate.get(digest);
  }

  @Override
  public InputStream openRead(Digest digest, long offset) throws IOException {
    openReads.incrementAndGet();
    return delegate.openRead(digest, offset);
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) throws IOException {
    findMissing.incrementAndGet();
    return delegate.findMissing(digests);
  }
}

public class VfsBench {
  static final int WARMUP = 5;

  static double ms(long nanos) {
    return nanos / 1e6;
  }

  static double median(List<Double> xs) {
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return a.length % 2 == 1 ? a[a.length / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
  }

  static String stats(List<Double> xs) {
    double[] a = xs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    return String.format("median %.3f ms (min %.3f, max %.3f, n=%d)", median(xs), a[0],
        a[a.length - 1], a.length);
  }

  static String load() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (IOException e) {
      return "?";
    }
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(q);
      }
    }
  }

  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "tree" -> tree(Path.of(args[1]), args.length > 2 ? Integer.parseInt(args[2]) : 11);
      case "import" -> importBench(Path.of(args[1]), Path.of(args[2]),
          args.length > 3 ? Integer.parseInt(args[3]) : 5);
      default -> throw new IllegalArgumentException("usage: tree WORKDIR [runs] | import SRC WORKDIR [runs]");
    }
  }

  // ------------------------------------------------------------------ 1 and 2

  /** Leaf directories under {@code top}: {@code levels} levels of 10 (a0..a9/b0..b9/c0..c9). */
  static List<TreePath> leaves(String top, int levels) {
    List<String> paths = new ArrayList<>(List.of(top));
    for (int l = 3 - levels; l < 3; l++) {
      char c = (char) ('a' + l);
      List<String> next = new ArrayList<>();
      for (String p : paths) {
        for (int i = 0; i < 10; i++) {
          next.add(p + "/" + c + i);
        }
      }
      paths = next;
    }
    return paths.stream().map(TreePath::parse).toList();
  }

  static void tree(Path work, int runs) throws Exception {
    Files.createDirectories(work);
    try {
      Path storeDir = work.resolve("store");
      try (DiskBlobStore disk = DiskBlobStore.open(DiskStoreConfig.at(storeDir))) {
        CountingStore store = new CountingStore(disk);
        Digest root = buildTree(store, work);
        copyBench(store, root, runs);
        overlayBench(store, root, work, runs);
      }
    } finally {
      deleteTree(work);
    }
  }

  static Digest buildTree(BlobStore store, Path work) throws IOException {
    long t0 = System.nanoTime();
    CasDirectory d = CasDirectory.empty(store);
    int n = 0;
    String[][] tops = {{"small", "1"}, {"mid", "2"}, {"big", "3"}};
    for (String[] top : tops) {
      for (TreePath leaf : leaves(top[0], Integer.parseInt(top[1]))) {
        d.mkdir(leaf, true);
        for (int f = 0; f < 100; f++) {
          byte[] content = ("file " + leaf + "/f" + f + " #" + (n++) + "\n").getBytes(StandardCharsets.UTF_8);
          d.write(leaf.resolve(TreePath.parse(String.format("f%02d", f))), new ByteArrayInputStream(content));
        }
      }
    }
    Digest root = d.snapshot();
    System.out.printf("setup: %d files written through CasDirectory.write + snapshot in %.1f s; root %s%n",
        n, (System.nanoTime() - t0) / 1e9, root.shortForm());
    return root;
  }

  static void copyBench(CountingStore store, Digest root, int runs) throws IOException {
    System.out.println();
    System.out.println("== 1. CasDirectory copy(S, S-copy) + snapshot(), fresh CasDirectory.open per run ==");
    System.out.println("load before: " + load());
    for (String[] s : new String[][] {{"small", "1,000"}, {"mid", "10,000"}, {"big", "100,000"}}) {
      TreePath src = TreePath.parse(s[0]);
      TreePath dst = TreePath.parse(s[0] + "-copy");
      List<Double> times = new ArrayList<>();
      long dirPuts = -1, otherPuts = -1, gets = -1, distinct = -1;
      Digest result = null;
      for (int i = 0; i < WARMUP + runs; i++) {
        CasDirectory d = CasDirectory.open(store, root);
        store.reset();
        long t0 = System.nanoTime();
        d.copy(src, dst);
        result = d.snapshot();
        long t1 = System.nanoTime();
        if (i >= WARMUP) {
          times.add(ms(t1 - t0));
        }
        dirPuts = store.dirPuts.get();
        otherPuts = store.otherPuts.get();
        gets = store.gets.get();
        distinct = store.distinctGets.size();
        Node.Dir a = (Node.Dir) d.stat(src);
        Node.Dir b = (Node.Dir) d.stat(dst);
        if (!a.digest().equals(b.digest())) {
          throw new AssertionError("copy differs from source");
        }
      }
      System.out.printf("copy %-5s (%7s files) + snapshot: %s; per op: %d Directory blobs written, "
          + "%d other blobs, %d Directory blob reads (%d distinct); new root %s%n", s[0], s[1],
          stats(times), dirPuts, otherPuts, gets, distinct, result.shortForm());
    }
    System.out.println("load after: " + load());
  }

  static void overlayBench(CountingStore store, Digest root, Path work, int runs) throws IOException {
    System.out.println();
    System.out.println("== 2. OverlayDirectory over the 111,000-file CasDirectory: write 1 deep file + snapshot() ==");
    System.out.println("load before: " + load());
    TreePath file = TreePath.parse("big/a3/b7/c5/f42"); // depth 5: root, big, a3, b7, c5
    List<Double> writes = new ArrayList<>(), snaps = new ArrayList<>(), totals = new ArrayList<>();
    long dirPuts = -1, otherPuts = -1, gets = -1, reads = -1, distinct = -1;
    for (int i = 0; i < WARMUP + runs; i++) {
      Path scratch = work.resolve("scratch-" + i);
      byte[] content = ("changed in run " + i + " at " + System.nanoTime() + "\n").getBytes(StandardCharsets.UTF_8);
      CasDirectory lower = CasDirectory.open(store, root);
      try (OverlayDirectory ov = OverlayDirectory.over(lower, store, scratch)) {
        store.reset();
        long t0 = System.nanoTime();
        ov.write(file, new ByteArrayInputStream(content));
        long t1 = System.nanoTime();
        Digest after = ov.snapshot();
        long t2 = System.nanoTime();
        if (i >= WARMUP) {
          writes.add(ms(t1 - t0));
          snaps.add(ms(t2 - t1));
          totals.add(ms(t2 - t0));
        }
        dirPuts = store.dirPuts.get();
        otherPuts = store.otherPuts.get();
        gets = store.gets.get();
        reads = store.openReads.get();
        distinct = store.distinctGets.size();
        // Check: the same edit on a CasDirectory gives the same root.
        CasDirectory check = CasDirectory.open(store, root);
        check.write(file, new ByteArrayInputStream(content));
        if (!check.snapshot().equals(after)) {
          throw new AssertionError("overlay root differs from CasDirectory root");
        }
      }
      deleteTree(scratch);
    }
    System.out.println("write(" + file + "):      " + stats(writes));
    System.out.println("snapshot():                    " + stats(snaps));
    System.out.println("write + snapshot:              " + stats(totals));
    System.out.printf("per run: %d file blob hashed+stored, %d Directory blobs written (depth 5), "
        + "%d Directory blob reads (%d distinct), %d file contents read from the lower tree%n",
        otherPuts, dirPuts, gets, distinct, reads);
    System.out.println("load after: " + load());
  }

  // ------------------------------------------------------------------ 3

  static void importBench(Path src, Path work, int runs) throws Exception {
    Files.createDirectories(work);
    try {
      System.out.println("== 3. OsDirectory.open(dir, store).snapshot() in one JVM (store open+snapshot+close) ==");
      System.out.println("load before: " + load());
      List<Double> fresh = new ArrayList<>();
      Digest root = null;
      int warm = 2;
      double first = -1;
      for (int i = 0; i < warm + runs; i++) {
        Path storeDir = work.resolve("store-" + i);
        long t0 = System.nanoTime();
        try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir));
            OsDirectory dir = OsDirectory.open(src, store)) {
          root = dir.snapshot();
        }
        double t = ms(System.nanoTime() - t0);
        if (i == 0) {
          first = t;
        }
        if (i >= warm) {
          fresh.add(t);
        }
        deleteTree(storeDir);
      }
      System.out.printf("first run (cold JIT, fresh store): %.0f ms%n", first);
      System.out.println("fresh store: " + stats(fresh) + "; root " + root);
      Path storeDir = work.resolve("store-warm");
      try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir));
          OsDirectory dir = OsDirectory.open(src, store)) {
        dir.snapshot(); // fill it
      }
      List<Double> warmStore = new ArrayList<>();
      for (int i = 0; i < warm + runs; i++) {
        long t0 = System.nanoTime();
        try (DiskBlobStore store = DiskBlobStore.open(DiskStoreConfig.at(storeDir));
            OsDirectory dir = OsDirectory.open(src, store)) {
          dir.snapshot();
        }
        if (i >= warm) {
          warmStore.add(ms(System.nanoTime() - t0));
        }
      }
      System.out.println("warm store:  " + stats(warmStore));
      System.out.println("load after: " + load());
    } finally {
      deleteTree(work);
    }
  }
}
