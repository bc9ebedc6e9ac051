package dev.cairn.store.disk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.testing.BlobStoreContractTest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DiskBlobStoreTest extends BlobStoreContractTest {
  @TempDir Path dir;
  private final List<DiskBlobStore> opened = new ArrayList<>();

  @Override
  protected BlobStore newStore() throws IOException {
    return open(DiskStoreConfig.at(dir.resolve("store")));
  }

  private DiskBlobStore open(DiskStoreConfig config) throws IOException {
    DiskBlobStore s = DiskBlobStore.open(config);
    opened.add(s);
    return s;
  }

  private DiskBlobStore disk() {
    return (DiskBlobStore) store;
  }

  /** The invariant after every test: the index matches the files on disk exactly. */
  @AfterEach
  void indexMatchesDisk() throws IOException {
    for (DiskBlobStore s : opened) {
      List<String> onDisk;
      Path cas = s.root().resolve("cas").resolve(s.digestFunction().cliName());
      try (Stream<Path> files = Files.walk(cas)) {
        onDisk = files.filter(Files::isRegularFile).map(p -> p.getFileName().toString()).sorted().toList();
      }
      long bytes = onDisk.stream().mapToLong(n -> Long.parseLong(n.substring(65))).sum();
      DiskBlobStore.Stats stats = s.stats();
      if (s == opened.getLast()) {
        assertThat(stats.blobCount()).as("blob count vs files on disk").isEqualTo(onDisk.size());
        assertThat(stats.bytesUsed()).as("bytes used vs files on disk").isEqualTo(bytes);
      }
      assertThat(stats.bytesUsed()).isLessThanOrEqualTo(stats.maxSizeBytes());
    }
  }

  @Test
  void blobs_surviveRestart() throws IOException {
    byte[] data = randomBytes(4096, 1);
    Digest d = store.put(data);
    store.close();
    store = open(DiskStoreConfig.at(dir.resolve("store")));
    assertThat(store.get(d)).isEqualTo(data);
    assertThat(disk().stats().blobCount()).isEqualTo(1);
    assertThat(disk().stats().bytesUsed()).isEqualTo(4096);
  }

  @Test
  void blobFiles_areReadOnly_andNamedByDigest() throws IOException {
    Digest d = store.put(randomBytes(10, 2));
    Path file = disk().pathOf(d).orElseThrow();
    assertThat(file.getFileName().toString()).isEqualTo(d.hash() + "-10");
    assertThat(file.getParent().getFileName().toString()).isEqualTo(d.hash().substring(0, 2));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("r--r--r--");
  }

  @Test
  void eviction_dropsLeastRecentlyUsed() throws IOException {
    store = open(DiskStoreConfig.at(dir.resolve("small")).withMaxSize(3000));
    Digest a = store.put(randomBytes(1000, 10));
    Digest b = store.put(randomBytes(1000, 11));
    Digest c = store.put(randomBytes(1000, 12));
    store.findMissing(List.of(a)); // a is now more recent than b
    Digest e = store.put(randomBytes(1000, 13));
    assertThat(store.findMissing(List.of(a, b, c, e))).containsExactly(b);
    assertThat(disk().stats().evictions()).isEqualTo(1);
    assertThat(disk().stats().bytesUsed()).isEqualTo(3000);
  }

  @Test
  void makeRoomFor_evictsLeastRecentlyUsed_untilTheComingBlobFits() throws IOException {
    store = open(DiskStoreConfig.at(dir.resolve("room")).withMaxSize(3000));
    Digest a = store.put(randomBytes(1000, 20));
    Digest b = store.put(randomBytes(1000, 21));
    Digest c = store.put(randomBytes(1000, 22));
    store.findMissing(List.of(a)); // order of use: b, c, a

    store.makeRoomFor(500); // room for nothing yet: evicts b
    assertThat(store.findMissing(List.of(a, b, c))).containsExactly(b);
    store.makeRoomFor(1000); // 2000 used: fits without evicting
    assertThat(disk().stats().evictions()).isEqualTo(1);
    store.makeRoomFor(2500); // evicts c, then a
    assertThat(store.findMissing(List.of(a, c))).containsExactlyInAnyOrder(a, c);
    assertThat(disk().stats().bytesUsed()).isZero();
  }

  @Test
  void largePut_intoAFullStore_evictsWhileItsBytesArrive_andOnlyAsMuchAsArrived() throws IOException {
    // Room is made as the bytes come (what arrived plus one 8 MiB step), so the blob's pages can
    // reuse the evicted files' memory; a stream that stops early has evicted no more than that.
    int mib = 1 << 20;
    store = open(DiskStoreConfig.at(dir.resolve("room3")).withMaxSize(24L * mib));
    List<Digest> old = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      old.add(store.put(randomBytes(mib, 200 + i))); // 20 of 24 MiB
    }
    byte[] blob = randomBytes(12 * mib, 300);
    Digest digest = DigestFunction.SHA256.digestOf(blob);
    long[] evictionsMidWrite = {-1};
    java.io.InputStream watched = new java.io.ByteArrayInputStream(blob) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        if (pos >= 2 * mib && evictionsMidWrite[0] < 0) {
          evictionsMidWrite[0] = disk().stats().evictions();
        }
        return super.read(b, off, Math.min(len, mib));
      }
    };

    store.put(digest, watched);

    // Seen while the third MiB was being read (2 MiB written): the first MiB had asked for room
    // for 9 MiB of 24, with 20 used, so the 5 oldest were evicted; the next ask comes at 10 MiB.
    assertThat(evictionsMidWrite[0]).isEqualTo(5);
    assertThat(store.get(digest)).isEqualTo(blob);
    assertThat(store.findMissing(old)).containsExactlyInAnyOrderElementsOf(old.subList(0, 8));
    assertThat(disk().stats().bytesUsed()).isEqualTo(24L * mib);

    // A stream that breaks off after 1 MiB of a declared 12 MiB has cost 1 + 8 MiB of room.
    store = open(DiskStoreConfig.at(dir.resolve("room4")).withMaxSize(24L * mib));
    List<Digest> others = new java.util.ArrayList<>();
    for (int i = 0; i < 20; i++) {
      others.add(store.put(randomBytes(mib, 400 + i)));
    }
    java.io.InputStream broken = new java.io.InputStream() {
      private int sent;

      @Override
      public int read() throws IOException {
        throw new UnsupportedOperationException();
      }

      @Override
      public int read(byte[] b, int off, int len) throws IOException {
        if (sent >= mib) {
          throw new IOException("client went away");
        }
        int n = Math.min(len, mib - sent);
        sent += n;
        return n;
      }
    };
    assertThatThrownBy(() -> store.put(digest, broken)).hasMessageContaining("client went away");
    assertThat(disk().stats().evictions()).isEqualTo(5);
    assertThat(store.findMissing(others)).containsExactlyInAnyOrderElementsOf(others.subList(0, 5));
  }

  @Test
  void makeRoomFor_aBlobTheLimitCannotHold_evictsNothing() throws IOException {
    store = open(DiskStoreConfig.at(dir.resolve("room2")).withMaxSize(3000));
    Digest a = store.put(randomBytes(1000, 23));

    store.makeRoomFor(3001);

    assertThat(store.findMissing(List.of(a))).isEmpty();
    assertThat(disk().stats().evictions()).isZero();
  }

  @Test
  void evictionListeners_hearEachEvictedBlob_afterItsFileIsGone() throws IOException {
    DiskBlobStore small = open(DiskStoreConfig.at(dir.resolve("listen")).withMaxSize(2000));
    store = small;
    List<Digest> heard = new ArrayList<>();
    List<Boolean> fileGone = new ArrayList<>();
    DiskBlobStore.EvictionListener listener = d -> {
      heard.add(d);
      fileGone.add(!Files.exists(small.blobPath(d)));
    };
    small.addEvictionListener(d -> {
      throw new IllegalStateException("a failing listener does not stop eviction");
    });
    small.addEvictionListener(listener);
    Digest a = small.put(randomBytes(1000, 90));
    Digest b = small.put(randomBytes(1000, 91));
    assertThat(heard).isEmpty();
    Digest c = small.put(randomBytes(1000, 92));
    assertThat(heard).containsExactly(a);
    small.gc(0);
    assertThat(heard).containsExactly(a, b, c);
    assertThat(fileGone).containsOnly(true);
    small.removeEvictionListener(listener);
    small.put(randomBytes(1000, 93));
    small.put(randomBytes(1000, 94));
    small.put(randomBytes(1000, 95));
    assertThat(heard).hasSize(3);
    assertThat(small.stats().evictions()).isEqualTo(4);
  }

  @Test
  void blobLargerThanLimit_isRefusedClearly() throws IOException {
    store = open(DiskStoreConfig.at(dir.resolve("tiny")).withMaxSize(100));
    byte[] data = randomBytes(101, 14);
    assertThatThrownBy(() -> store.put(data))
        .isInstanceOf(StoreFullException.class)
        .hasMessageContaining("larger than the store's limit");
  }

  @Test
  void maxSize_isRemembered_andLowerLimitEvictsAtOpen() throws IOException {
    Path root = dir.resolve("remember");
    DiskBlobStore first = open(DiskStoreConfig.at(root).withMaxSize(5000));
    for (int i = 0; i < 4; i++) {
      first.put(randomBytes(1000, 20 + i));
    }
    first.close();
    DiskBlobStore second = open(DiskStoreConfig.at(root));
    assertThat(second.stats().maxSizeBytes()).isEqualTo(5000);
    second.close();
    DiskBlobStore third = open(DiskStoreConfig.at(root).withMaxSize(2000));
    assertThat(third.stats().bytesUsed()).isEqualTo(2000);
    store = third;
  }

  @Test
  void lruOrder_survivesRestart() throws IOException {
    Path root = dir.resolve("order");
    DiskBlobStore first = open(DiskStoreConfig.at(root).withMaxSize(3000));
    Digest a = first.put(randomBytes(1000, 80));
    Digest b = first.put(randomBytes(1000, 81));
    Digest c = first.put(randomBytes(1000, 82));
    first.findMissing(List.of(b));
    first.findMissing(List.of(a)); // use order now: c, b, a
    first.close();
    store = open(DiskStoreConfig.at(root));
    Digest e = store.put(randomBytes(1000, 83));
    assertThat(store.findMissing(List.of(a, b, c, e))).containsExactly(c);
    // That lookup touched a, b, e in this order, so a is now the oldest.
    disk().gc(2000);
    assertThat(store.findMissing(List.of(a, b, e))).containsExactly(a);
  }

  @Test
  void gc_evictsDownToTarget() throws IOException {
    for (int i = 0; i < 10; i++) {
      store.put(randomBytes(100, 30 + i));
    }
    assertThat(disk().gc(450)).isEqualTo(600);
    assertThat(disk().stats().bytesUsed()).isEqualTo(400);
  }

  @Test
  void readerKeepsItsBytes_whenBlobIsEvictedMidRead() throws IOException {
    byte[] data = randomBytes(2 * 1024 * 1024, 40);
    Digest d = store.put(data);
    try (InputStream in = store.openRead(d, 0)) {
      byte[] head = in.readNBytes(1000);
      disk().gc(0);
      assertThat(store.findMissing(List.of(d))).containsExactly(d);
      byte[] rest = in.readAllBytes();
      assertThat(head.length + rest.length).isEqualTo(data.length);
      assertThat(rest[rest.length - 1]).isEqualTo(data[data.length - 1]);
    }
  }

  @Test
  void truncatedBlobFile_isDroppedNotServed() throws IOException {
    byte[] data = randomBytes(10_000, 50);
    Digest d = store.put(data);
    Path file = disk().pathOf(d).orElseThrow();
    file.toFile().setWritable(true);
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(0); // what a power cut without fsync can leave behind
    }
    assertThatThrownBy(() -> store.get(d)).isInstanceOf(BlobNotFoundException.class);
    assertThat(Files.exists(file)).isFalse();
    store.put(d, data);
    assertThat(store.get(d)).isEqualTo(data);
  }

  @Test
  void evictionListeners_hearDroppedBlobs_damagedOrMissing_butNotAsEvictions() throws IOException {
    List<Digest> evicted = new ArrayList<>();
    List<Digest> dropped = new ArrayList<>();
    disk().addEvictionListener(new DiskBlobStore.EvictionListener() {
      @Override
      public void evicted(Digest digest) {
        evicted.add(digest);
      }

      @Override
      public void dropped(Digest digest) {
        dropped.add(digest);
      }
    });
    Digest damaged = store.put(randomBytes(1000, 60));
    Digest missing = store.put(randomBytes(1000, 61));
    Path file = disk().pathOf(damaged).orElseThrow();
    file.toFile().setWritable(true);
    try (var ch = java.nio.channels.FileChannel.open(file, java.nio.file.StandardOpenOption.WRITE)) {
      ch.truncate(10);
    }
    Files.delete(disk().pathOf(missing).orElseThrow()); // as another process sharing the store might
    assertThatThrownBy(() -> store.get(damaged)).isInstanceOf(BlobNotFoundException.class);
    assertThatThrownBy(() -> store.get(missing)).isInstanceOf(BlobNotFoundException.class);
    assertThat(dropped).containsExactly(damaged, missing);
    assertThat(evicted).isEmpty();
    assertThat(disk().stats().evictions()).isZero();
  }

  @Test
  void staleTempFiles_ofDeadProcesses_areRemovedAtOpen() throws IOException {
    Path root = dir.resolve("temps");
    open(DiskStoreConfig.at(root)).close();
    Path stale = root.resolve("tmp").resolve("999999999-1-abc.tmp");
    Path foreign = root.resolve("tmp").resolve("junk");
    Files.writeString(stale, "partial");
    Files.writeString(foreign, "x");
    store = open(DiskStoreConfig.at(root));
    assertThat(stale).doesNotExist();
    assertThat(foreign).doesNotExist();
  }

  @Test
  void blobsWrittenByAnotherProcess_areAdopted() throws IOException {
    Path root = dir.resolve("shared");
    DiskBlobStore a = open(DiskStoreConfig.at(root));
    DiskBlobStore b = open(DiskStoreConfig.at(root));
    byte[] data = randomBytes(321, 60);
    Digest d = a.put(data);
    assertThat(b.findMissing(List.of(d))).isEmpty();
    assertThat(b.get(d)).isEqualTo(data);
    a.close();
    store = b;
  }

  @Test
  void resync_dropsBlobsAnotherProcessDeleted_andAdoptsTheOnesItAdded() throws IOException {
    Path root = dir.resolve("shared");
    DiskBlobStore longLived = open(DiskStoreConfig.at(root));
    byte[] data = randomBytes(321, 61);
    Digest kept = longLived.put(data);
    Digest deleted = longLived.put(randomBytes(200, 62));
    Path shards = root.resolve("cas/sha256");
    settleAllShards(shards);
    longLived.resync(); // the shards are settled and listed: from now on known exact
    DiskBlobStore other = DiskBlobStore.open(DiskStoreConfig.at(root)); // another process's
    assertThat(other.gc(0)).isPositive(); // deletes both blobs
    Digest added = other.put(randomBytes(150, 63));
    other.close();
    assertThat(longLived.findMissing(List.of(kept, deleted))).as("the stale index").isEmpty();

    longLived.resync();

    assertThat(longLived.findMissing(List.of(kept, deleted, added)))
        .containsExactlyInAnyOrder(kept, deleted);
    assertThat(longLived.stats().blobCount()).isEqualTo(1);
    longLived.put(data); // stored again, not skipped as present
    assertThat(longLived.get(kept)).isEqualTo(data);
    assertThat(longLived.findMissing(List.of(kept))).isEmpty();
    store = longLived;
  }

  @Test
  void resync_ofShardsKnownExact_listsNothing() throws IOException {
    Path root = dir.resolve("shared");
    DiskBlobStore a = open(DiskStoreConfig.at(root));
    byte[] data = randomBytes(100, 64);
    Digest d = a.put(data);
    settleAllShards(root.resolve("cas/sha256"));
    a.resync();
    // A file planted behind the store's back with the shard's time put back: the shard still
    // counts as exact, so resync (one stat per shard) does not list it. This is what makes
    // resync cheap; the time check is what makes it right when others use the store.
    Path shard = root.resolve("cas/sha256").resolve(d.hash().substring(0, 2));
    FileTime time = Files.getLastModifiedTime(shard);
    Path file = shard.resolve(d.hash() + "-" + d.sizeBytes());
    Files.delete(file);
    Files.setLastModifiedTime(shard, time);

    a.resync();

    assertThat(a.findMissing(List.of(d))).isEmpty();
    Files.write(file, data); // as it was, for the index-matches-disk check after each test
    store = a;
  }

  /** Sets every shard directory's time 10 s back, as if nothing had changed in it since. */
  private static void settleAllShards(Path shards) throws IOException {
    FileTime settled = FileTime.from(Instant.now().minusSeconds(10));
    try (var dirs = Files.list(shards)) {
      for (Path p : dirs.filter(Files::isDirectory).toList()) {
        Files.setLastModifiedTime(p, settled);
      }
    }
  }

  @Test
  void findMissing_trustsAShardWhoseTimeIsUnchangedSinceItWasListed() throws IOException {
    Path root = dir.resolve("shared");
    DiskBlobStore a = open(DiskStoreConfig.at(root));
    DiskBlobStore b = open(DiskStoreConfig.at(root));
    byte[] first = randomBytes(100, 64);
    Digest x = a.put(first);
    Digest y = a.put(blobInShardOf(x, 65));
    Path shard = root.resolve("cas/sha256").resolve(x.hash().substring(0, 2));
    FileTime settled = FileTime.from(Instant.now().minusSeconds(10));
    Files.setLastModifiedTime(shard, settled);
    // Not indexed by b, shard settled but never listed by b since: listed now, both adopted.
    assertThat(b.findMissing(List.of(x))).isEmpty();
    assertThat(b.stats().blobCount()).isEqualTo(2);

    // A third blob arrives, but the shard's time is put back to the one b verified: b trusts its
    // index and calls the blob missing without looking (a needless upload at worst).
    Digest z = a.put(blobInShardOf(x, 66));
    Files.setLastModifiedTime(shard, settled);
    assertThat(b.findMissing(List.of(x, y, z))).containsExactly(z);

    // Any other time, if settled, makes b list the shard again.
    Files.setLastModifiedTime(shard, FileTime.from(Instant.now().minusSeconds(5)));
    assertThat(b.findMissing(List.of(x, y, z))).isEmpty();
    a.close();
    store = b;
  }

  @Test
  void findMissing_neverTrustsAShardChangedWithinTheSettlingTime() throws IOException {
    Path root = dir.resolve("shared");
    DiskBlobStore a = open(DiskStoreConfig.at(root));
    Digest x = a.put(randomBytes(100, 67));
    Path shard = root.resolve("cas/sha256").resolve(x.hash().substring(0, 2));
    FileTime recent = FileTime.from(Instant.now().minusMillis(500));
    Files.setLastModifiedTime(shard, recent);
    DiskBlobStore b = open(DiskStoreConfig.at(root)); // lists the shard, but cannot trust it
    Digest y = a.put(blobInShardOf(x, 68));
    Files.setLastModifiedTime(shard, recent); // a change in the same clock tick as b's listing
    assertThat(b.findMissing(List.of(x, y))).isEmpty();
    a.close();
    store = b;
  }

  @Test
  void open_takesUnchangedShardsFromTheSnapshot_andListsTheOthers() throws IOException {
    Path root = dir.resolve("snap");
    DiskBlobStore first = open(DiskStoreConfig.at(root));
    Digest x = first.put(randomBytes(100, 80));
    Digest other = first.put(blobOutsideShardOf(x, 81));
    first.close();
    Path cas = root.resolve("cas/sha256");
    Path shardX = cas.resolve(x.hash().substring(0, 2));
    Path shardOther = cas.resolve(other.hash().substring(0, 2));
    FileTime settled = FileTime.from(Instant.now().minusSeconds(10));
    Files.setLastModifiedTime(shardX, settled);
    Files.setLastModifiedTime(shardOther, settled);
    open(DiskStoreConfig.at(root)).close(); // lists both (settled now), saves their times

    // A file slipped into x's shard without changing its time: the next open must not list that
    // shard (its index comes from the snapshot), so the file goes unseen.
    byte[] sneaky = blobInShardOf(x, 82);
    Digest hidden = digestOf(sneaky);
    Path hiddenFile = shardX.resolve(hidden.hash() + "-" + hidden.sizeBytes());
    Files.write(hiddenFile, sneaky);
    Files.setLastModifiedTime(shardX, settled);
    // A file added to the other shard the normal way (its time changes): that shard is listed.
    byte[] seen = blobInShardOf(other, 83);
    Digest visible = digestOf(seen);
    Files.write(shardOther.resolve(visible.hash() + "-" + visible.sizeBytes()), seen);
    Files.setLastModifiedTime(shardOther, FileTime.from(Instant.now().minusSeconds(5)));

    DiskBlobStore reopened = open(DiskStoreConfig.at(root));
    assertThat(reopened.stats().blobCount()).isEqualTo(3); // x, other, visible: not hidden
    assertThat(reopened.get(x)).isEqualTo(randomBytes(100, 80));
    assertThat(reopened.get(visible)).isEqualTo(seen);
    reopened.close();

    // Once the shard's time moves, it is listed again and the file found.
    Files.setLastModifiedTime(shardX, FileTime.from(Instant.now().minusSeconds(4)));
    store = open(DiskStoreConfig.at(root));
    assertThat(disk().stats().blobCount()).isEqualTo(4);
    assertThat(disk().get(hidden)).isEqualTo(sneaky);
  }

  @Test
  void open_trustsNoShardOfADamagedSnapshot() throws IOException {
    Path root = dir.resolve("damaged");
    DiskBlobStore first = open(DiskStoreConfig.at(root));
    Digest x = first.put(randomBytes(100, 84));
    first.close();
    Path shardX = root.resolve("cas/sha256").resolve(x.hash().substring(0, 2));
    FileTime settled = FileTime.from(Instant.now().minusSeconds(10));
    Files.setLastModifiedTime(shardX, settled);
    open(DiskStoreConfig.at(root)).close();
    byte[] sneaky = blobInShardOf(x, 85);
    Digest hidden = digestOf(sneaky);
    Files.write(shardX.resolve(hidden.hash() + "-" + hidden.sizeBytes()), sneaky);
    Files.setLastModifiedTime(shardX, settled);
    Path lru = root.resolve("cas/sha256.lru");
    byte[] snapshot = Files.readAllBytes(lru);
    Files.write(lru, java.util.Arrays.copyOf(snapshot, snapshot.length - 3)); // torn

    store = open(DiskStoreConfig.at(root));
    assertThat(disk().stats().blobCount()).isEqualTo(2); // listed: both found
    assertThat(disk().findMissing(List.of(x, hidden))).isEmpty();
  }

  @Test
  void aShardWhoseFileWasDeletedBehindTheIndex_isNotVouchedFor() throws IOException {
    Path root = dir.resolve("deleted");
    DiskBlobStore a = open(DiskStoreConfig.at(root));
    Digest x = a.put(randomBytes(100, 86));
    Path shardX = root.resolve("cas/sha256").resolve(x.hash().substring(0, 2));
    Files.setLastModifiedTime(shardX, FileTime.from(Instant.now().minusSeconds(10)));
    DiskBlobStore b = open(DiskStoreConfig.at(root)); // lists x's shard: exact
    a.close();
    // Another process deletes x's file; b's index still names it. A later findMissing relists the
    // shard (settled, and cheaper than a lookup), which adds what is new but cannot take x out.
    Files.setPosixFilePermissions(shardX, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.delete(shardX.resolve(x.hash() + "-" + x.sizeBytes()));
    Files.setLastModifiedTime(shardX, FileTime.from(Instant.now().minusSeconds(5)));
    b.findMissing(List.of(digestOf(blobInShardOf(x, 87))));
    b.close(); // must not vouch for x's shard: its index is no longer exactly the files

    store = open(DiskStoreConfig.at(root));
    assertThat(disk().findMissing(List.of(x))).containsExactly(x);
  }

  /** Random bytes whose SHA-256 falls in the same shard directory as {@code digest}. */
  private byte[] blobInShardOf(Digest digest, int seed) {
    return blobWhoseShard(digest, seed, true);
  }

  /** Random bytes whose SHA-256 falls in another shard directory than {@code digest}. */
  private byte[] blobOutsideShardOf(Digest digest, int seed) {
    return blobWhoseShard(digest, seed, false);
  }

  private byte[] blobWhoseShard(Digest digest, int seed, boolean same) {
    for (int i = 0; ; i++) {
      byte[] data = randomBytes(100, seed * 1000 + i);
      if (digestOf(data).hash().startsWith(digest.hash().substring(0, 2)) == same) {
        return data;
      }
    }
  }

  @Test
  void findByHash_givesTheStoredDigest_andCountsAsUse() throws IOException {
    DiskBlobStore s = disk();
    byte[] data = randomBytes(1234, 61);
    Digest d = s.put(data);
    Digest other = s.put(randomBytes(10, 62));
    assertThat(s.findByHash(d.hash())).contains(d);
    assertThat(s.findByHash(digestOf(new byte[] {1, 2, 3}).hash())).isEmpty();
    assertThat(s.findByHash(s.digestFunction().emptyDigest().hash()))
        .contains(s.digestFunction().emptyDigest());
    s.gc(d.sizeBytes()); // the lookup made d the most recently used: other goes first
    assertThat(s.findMissing(List.of(d, other))).containsExactly(other);
    assertThatThrownBy(() -> s.findByHash("ABC")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void findByHash_findsBlobsWrittenByAnotherProcess() throws IOException {
    Path root = dir.resolve("shared");
    DiskBlobStore a = open(DiskStoreConfig.at(root));
    DiskBlobStore b = open(DiskStoreConfig.at(root));
    Digest d = a.put(randomBytes(99, 63));
    assertThat(b.findByHash(d.hash())).contains(d);
    assertThat(b.stats().blobCount()).isEqualTo(1);
    a.close();
    store = b;
  }

  @Test
  void findIndexedByHash_answersFromTheIndexAlone_andCountsAsUse() throws IOException {
    Path root = dir.resolve("indexed");
    DiskBlobStore other = open(DiskStoreConfig.at(root));
    DiskBlobStore s = open(DiskStoreConfig.at(root));
    byte[] data = randomBytes(1234, 71);
    Digest d = s.put(data);
    Digest older = s.put(randomBytes(10, 72));
    assertThat(s.findIndexedByHash(d.hash())).contains(d);
    assertThat(Files.readAllBytes(s.blobPath(d))).isEqualTo(data);
    assertThat(s.findIndexedByHash(digestOf(new byte[] {1, 2, 3}).hash())).isEmpty();
    assertThat(s.findIndexedByHash(s.digestFunction().emptyDigest().hash()))
        .contains(s.digestFunction().emptyDigest());
    assertThatThrownBy(() -> s.findIndexedByHash("ABC")).isInstanceOf(IllegalArgumentException.class);

    // Another process's blob is on disk but not in this index: only findByHash looks there.
    assertThat(other.findIndexedByHash(d.hash())).isEmpty();
    assertThat(other.findByHash(d.hash())).contains(d);
    assertThat(other.findIndexedByHash(d.hash())).contains(d);

    s.findIndexedByHash(older.hash());
    s.gc(older.sizeBytes()); // the lookup made `older` the most recently used: d goes first
    assertThat(s.findMissing(List.of(d, older))).containsExactly(d);
    other.close();
    store = s;
  }

  @Test
  void digestFunctions_keepSeparateDirectories() throws IOException {
    Path root = dir.resolve("both");
    DiskBlobStore sha = open(DiskStoreConfig.at(root));
    DiskBlobStore blake = open(DiskStoreConfig.at(root).withDigestFunction(DigestFunction.BLAKE3));
    byte[] data = randomBytes(77, 70);
    Digest ds = sha.put(data);
    Digest db = blake.put(data);
    assertThat(ds).isNotEqualTo(db);
    assertThat(blake.get(db)).isEqualTo(data);
    assertThat(sha.findMissing(List.of(db))).containsExactly(db);
    sha.close();
    store = blake;
  }

  @Test
  void unexpectedFilesInStore_areIgnored() throws IOException {
    Path root = dir.resolve("junk");
    open(DiskStoreConfig.at(root)).close();
    Path shard = root.resolve("cas/sha256/ab");
    Files.createDirectories(shard);
    Files.writeString(shard.resolve("not-a-blob"), "x");
    store = open(DiskStoreConfig.at(root));
    assertThat(disk().stats().blobCount()).isZero();
    Files.delete(shard.resolve("not-a-blob"));
  }
}
