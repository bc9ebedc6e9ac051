package dev.cairn.fuse;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.ref.RefStore;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.fuse.flush.FlushPolicy;
import dev.cairn.fuse.cas.CasFileSystem;
import dev.cairn.fuse.kernel.Mounter;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The services around a mount, on real mounts: flush to a ref, access log, metrics. */
class CairnMountIT {

  @TempDir Path temp;
  private Path source;
  private DiskBlobStore store;
  private Digest root;
  private Path mp;
  private CairnMount mount;

  /** Refs in memory: the RefStore seam, as the asset index will implement it. */
  static final class MemoryRefs implements RefStore {
    final Map<String, Digest> refs = new ConcurrentHashMap<>();

    @Override
    public Optional<Digest> get(String name) {
      return Optional.ofNullable(refs.get(name));
    }

    @Override
    public void set(String name, Digest root) {
      refs.put(name, root);
    }
  }

  @BeforeEach
  void setUp() throws IOException {
    source = Files.createDirectories(temp.resolve("source"));
    Files.createDirectories(source.resolve("dir/sub"));
    Files.writeString(source.resolve("a.txt"), "a\n");
    Files.writeString(source.resolve("dir/b.txt"), "b\n");
    Files.writeString(source.resolve("dir/sub/c.txt"), "c\n");
    store = DiskBlobStore.open(DiskStoreConfig.at(temp.resolve("store")));
    root = new MerkleTreeBuilder(store).build(source).root();
    mp = Files.createDirectories(temp.resolve("mnt"));
  }

  @AfterEach
  void tearDown() throws IOException {
    if (mount != null) {
      mount.close();
    }
    store.close();
  }

  private CairnMount.Spec spec(boolean writable, Optional<Path> track,
      Optional<InetSocketAddress> metrics, Optional<FlushPolicy> flush, Optional<RefStore> refs) {
    return new CairnMount.Spec(root, mp, writable, 2, track, metrics, flush,
        flush.map(f -> "team/app"), refs, Mounter.Method.AUTO);
  }

  @Test
  void onCloseFlush_publishesEachChange_andNeverClobbersARefMovedByOthers() throws Exception {
    MemoryRefs refs = new MemoryRefs();
    refs.set("team/app", root);
    mount = CairnMount.start(store, Optional.empty(), spec(true, Optional.empty(), Optional.empty(),
        Optional.of(FlushPolicy.parse("on-close")), Optional.of(refs)));

    Files.writeString(mp.resolve("new.txt"), "new\n");
    Digest first = awaitRef(refs, "team/app", root);
    assertThat(first).isEqualTo(mount.capture());

    Digest someoneElse = store.digestFunction().digestOf(new byte[] {1});
    refs.set("team/app", someoneElse); // another writer moved the ref
    Files.writeString(mp.resolve("another.txt"), "x\n");
    Digest diverted = awaitRef(refs, "team/app.conflict-1", null);
    assertThat(refs.get("team/app")).contains(someoneElse);
    assertThat(diverted).isEqualTo(mount.capture());

    Files.delete(mp.resolve("a.txt"));
    Digest last = mount.unmount(); // the final flush
    mount = null;
    assertThat(refs.get("team/app.conflict-1")).contains(last);
  }

  @Test
  void trackAccess_onAReadOnlyMount_listsWhatWasOpenedOrListed() throws Exception {
    Path log = temp.resolve("access.txt");
    mount = CairnMount.start(store, Optional.empty(),
        spec(false, Optional.of(log), Optional.empty(), Optional.empty(), Optional.empty()));
    assertThat(Files.readString(mp.resolve("dir/sub/c.txt"))).isEqualTo("c\n");
    try (Stream<Path> list = Files.list(mp.resolve("dir"))) {
      assertThat(list.count()).isEqualTo(2);
    }
    assertThat(Files.isWritable(mp.resolve("a.txt"))).isFalse();
    mount.unmount();
    mount = null;
    assertThat(Files.readAllLines(log)).containsExactly("dir", "dir/sub/c.txt");
  }

  @Test
  void kernelCacheReads_sendNoOpens_andReadEachPageOnce() throws Exception {
    InMemoryBlobStore remote = new InMemoryBlobStore();
    Digest remoteRoot = new MerkleTreeBuilder(remote).build(source).root();
    try (DiskBlobStore empty = DiskBlobStore.open(DiskStoreConfig.at(temp.resolve("empty")))) {
      CairnMount m = CairnMount.start(empty, Optional.of(remote), new CairnMount.Spec(remoteRoot,
          mp, false, 2, Optional.empty(), Optional.of(new InetSocketAddress("127.0.0.1", 0)),
          Optional.empty(), Optional.empty(), Optional.empty(), Mounter.Method.AUTO,
          CasFileSystem.Reads.KERNEL_CACHE));
      try {
        assertThat(m.readsDescription()).isEqualTo("kernel-cached");
        for (int i = 0; i < 10; i++) {
          assertThat(Files.readString(mp.resolve("dir/b.txt"))).isEqualTo("b\n");
          try (var list = Files.list(mp.resolve("dir"))) {
            assertThat(list.count()).isPositive();
          }
        }
        InetSocketAddress at = m.metricsAddress().orElseThrow();
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + at.getPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        List<String> lines = text.lines().toList();
        // ten opens, one READ: the kernel opened the file itself and kept its page
        assertThat(lines).contains("cairn_fuse_blobs_fetched_total 3.0",
            "cairn_fuse_operations_seconds_count{op=\"READ\"} 1");
        // the first OPEN and OPENDIR were answered ENOSYS; the kernel asked no more
        assertThat(lines).contains("cairn_fuse_operations_seconds_count{op=\"OPEN\"} 1",
            "cairn_fuse_operations_seconds_count{op=\"OPENDIR\"} 1");
        assertThat(lines).noneMatch(l -> l.startsWith("cairn_fuse_operations_seconds_count{op=\"RELEASE"));
        // nor a FLUSH at every close: the first was answered ENOSYS
        assertThat(lines).noneMatch(l -> l.startsWith("cairn_fuse_operations_seconds_count{op=\"FLUSH\"} ")
            && !l.endsWith(" 1"));
      } finally {
        m.close();
      }
    }
  }

  @Test
  void metrics_countOperationsAndFetchesFromTheRemote() throws Exception {
    InMemoryBlobStore remote = new InMemoryBlobStore();
    Digest remoteRoot = new MerkleTreeBuilder(remote).build(source).root();
    try (DiskBlobStore empty = DiskBlobStore.open(DiskStoreConfig.at(temp.resolve("empty")))) {
      CairnMount m = CairnMount.start(empty, Optional.of(remote), new CairnMount.Spec(remoteRoot,
          mp, false, 2, Optional.empty(), Optional.of(new InetSocketAddress("127.0.0.1", 0)),
          Optional.empty(), Optional.empty(), Optional.empty(), Mounter.Method.AUTO,
          CasFileSystem.Reads.PASSTHROUGH));
      try {
        assertThat(Files.readString(mp.resolve("dir/b.txt"))).isEqualTo("b\n");
        assertThat(Files.readString(mp.resolve("dir/b.txt"))).isEqualTo("b\n");
        InetSocketAddress at = m.metricsAddress().orElseThrow();
        String text = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + at.getPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        List<String> lines = text.lines().toList();
        // fetched once each: the root and dir Directory messages and b.txt; the second open hits
        assertThat(lines).contains("cairn_fuse_blobs_fetched_total 3.0",
            "cairn_fuse_cache_hits_total 1.0");
        assertThat(empty.contains(store.digestFunction().digestOf("b\n".getBytes()))).isTrue();
        assertThat(lines).anyMatch(l -> l.startsWith("cairn_fuse_operations_seconds_count{op=\"LOOKUP\"}"));
        assertThat(lines).anyMatch(l -> l.startsWith("cairn_fuse_operations_seconds_count{op=\"OPEN\"}"));
      } finally {
        m.close();
      }
    }
  }

  private static Digest awaitRef(MemoryRefs refs, String name, Digest notThis) throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (System.nanoTime() < deadline) {
      Digest d = refs.refs.get(name);
      if (d != null && !d.equals(notThis)) {
        return d;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("ref " + name + " was not published");
  }
}
