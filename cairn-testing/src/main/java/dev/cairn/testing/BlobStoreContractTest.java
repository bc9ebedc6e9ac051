package dev.cairn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.digest.Digest;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link BlobStore} must have. Each implementation's test extends this class
 * and says how to make a fresh, empty store; the same tests then run against memory, disk and
 * (later) remote stores, so they cannot drift apart.
 */
public abstract class BlobStoreContractTest {

  protected BlobStore store;

  /** A new, empty store. Called before each test; closed after it. */
  protected abstract BlobStore newStore() throws IOException;

  @BeforeEach
  void createStore() throws IOException {
    store = newStore();
  }

  @AfterEach
  void closeStore() throws Exception {
    store.close();
  }

  protected static byte[] randomBytes(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  protected Digest digestOf(byte[] bytes) {
    return store.digestFunction().digestOf(bytes);
  }

  @Test
  void put_thenGet_returnsSameBytes() throws IOException {
    byte[] data = randomBytes(1000, 1);
    Digest d = store.put(data);
    assertThat(store.get(d)).isEqualTo(data);
  }

  @Test
  void put_largeBlob_streamsBackIdentically() throws IOException {
    byte[] data = randomBytes(3 * 1024 * 1024 + 17, 2);
    Digest d = digestOf(data);
    store.put(d, new ByteArrayInputStream(data));
    try (InputStream in = store.openRead(d, 0)) {
      assertThat(in.readAllBytes()).isEqualTo(data);
    }
  }

  @Test
  void findMissing_returnsOnlyAbsentDigests() throws IOException {
    Digest present = store.put(randomBytes(10, 3));
    Digest absent = digestOf(randomBytes(10, 4));
    assertThat(store.findMissing(List.of(present, absent))).containsExactly(absent);
  }

  @Test
  void findMissingWire_answersWithTheRequestsOwnMessages_inOrder_eachOnce() throws IOException {
    Digest present = store.put(randomBytes(10, 30));
    Digest absent1 = digestOf(randomBytes(10, 31));
    Digest absent2 = digestOf(randomBytes(11, 32));
    Digest empty = store.digestFunction().emptyDigest();
    var a1 = absent1.toProto();
    var a2 = absent2.toProto();
    assertThat(store.findMissingWire(List.of(a2, present.toProto(), a1, empty.toProto(), a2, a1)))
        .containsExactly(a2, a1);
    assertThat(store.findMissingWire(List.of())).isEmpty();
    // The same hash with another size is another blob.
    var otherSize = new Digest(present.hash(), present.sizeBytes() + 1).toProto();
    assertThat(store.findMissingWire(List.of(otherSize))).containsExactly(otherSize);
  }

  @Test
  void findMissingWire_refusesAnInvalidDigest_namingIt() {
    var good = digestOf(randomBytes(10, 33)).toProto();
    for (var bad : List.of(
        build.bazel.remote.execution.v2.Digest.newBuilder().setHash("abc").setSizeBytes(1).build(),
        build.bazel.remote.execution.v2.Digest.newBuilder().setHash(good.getHash().toUpperCase(java.util.Locale.ROOT)).setSizeBytes(1).build(),
        build.bazel.remote.execution.v2.Digest.newBuilder().setHash(good.getHash().substring(1) + "g").setSizeBytes(1).build(),
        good.toBuilder().setSizeBytes(-1).build())) {
      assertThatThrownBy(() -> store.findMissingWire(List.of(good, bad)))
          .as(bad.toString())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("invalid digest");
    }
  }

  @Test
  void emptyBlob_isAlwaysPresent() throws IOException {
    Digest empty = store.digestFunction().emptyDigest();
    assertThat(store.findMissing(List.of(empty))).isEmpty();
    assertThat(store.get(empty)).isEmpty();
    store.put(empty, new byte[0]);
    assertThat(store.get(empty)).isEmpty();
  }

  @Test
  void openRead_fromOffset_returnsTail() throws IOException {
    byte[] data = randomBytes(5000, 5);
    Digest d = store.put(data);
    try (InputStream in = store.openRead(d, 4000)) {
      assertThat(in.readAllBytes()).isEqualTo(java.util.Arrays.copyOfRange(data, 4000, 5000));
    }
    try (InputStream in = store.openRead(d, 5000)) {
      assertThat(in.readAllBytes()).isEmpty();
    }
  }

  @Test
  void openRead_offsetBeyondEnd_isRejected() throws IOException {
    Digest d = store.put(randomBytes(10, 6));
    assertThatThrownBy(() -> store.openRead(d, 11).close())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(d.toString());
  }

  @Test
  void get_unknownDigest_throwsNotFoundNamingIt() {
    Digest absent = digestOf(randomBytes(10, 7));
    assertThatThrownBy(() -> store.get(absent))
        .isInstanceOf(BlobNotFoundException.class)
        .hasMessageContaining(absent.toString());
    assertThatThrownBy(() -> store.openRead(absent, 0).close())
        .isInstanceOf(BlobNotFoundException.class);
  }

  @Test
  void put_wrongHash_storesNothing() throws IOException {
    byte[] data = randomBytes(100, 8);
    Digest claimed = digestOf(randomBytes(100, 9));
    assertThatThrownBy(() -> store.put(claimed, data))
        .isInstanceOf(DigestMismatchException.class)
        .hasMessageContaining(claimed.toString());
    assertThat(store.findMissing(List.of(claimed))).containsExactly(claimed);
    assertThat(store.findMissing(List.of(digestOf(data)))).containsExactly(digestOf(data));
  }

  @Test
  void put_tooFewBytes_storesNothing() throws IOException {
    byte[] data = randomBytes(100, 10);
    Digest real = digestOf(data);
    Digest claimed = new Digest(real.hash(), 101);
    assertThatThrownBy(() -> store.put(claimed, data)).isInstanceOf(DigestMismatchException.class);
    assertThat(store.findMissing(List.of(claimed))).containsExactly(claimed);
  }

  @Test
  void put_tooManyBytes_storesNothing() throws IOException {
    byte[] data = randomBytes(100, 11);
    Digest real = digestOf(data);
    Digest claimed = new Digest(real.hash(), 99);
    assertThatThrownBy(() -> store.put(claimed, data)).isInstanceOf(DigestMismatchException.class);
    assertThat(store.findMissing(List.of(claimed, real))).containsExactlyInAnyOrder(claimed, real);
  }

  @Test
  void put_streamFailingMidway_storesNothing() throws IOException {
    byte[] data = randomBytes(200_000, 12);
    Digest d = digestOf(data);
    InputStream failing = new InputStream() {
      int served;

      @Override
      public int read() throws IOException {
        if (served++ >= 100_000) {
          throw new IOException("client disconnected");
        }
        return data[served - 1] & 0xff;
      }
    };
    assertThatThrownBy(() -> store.put(d, failing)).hasMessageContaining("client disconnected");
    assertThat(store.findMissing(List.of(d))).containsExactly(d);
    store.put(d, data);
    assertThat(store.get(d)).isEqualTo(data);
  }

  @Test
  void putFile_storesTheFilesBytes() throws IOException {
    byte[] data = randomBytes(300_000, 15);
    java.nio.file.Path file = java.nio.file.Files.createTempFile("cairn-contract", ".bin");
    try {
      java.nio.file.Files.write(file, data);
      Digest d = digestOf(data);
      store.putFile(d, file);
      assertThat(store.get(d)).isEqualTo(data);
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  @Test
  void putFile_wrongContent_storesNothing() throws IOException {
    java.nio.file.Path file = java.nio.file.Files.createTempFile("cairn-contract", ".bin");
    try {
      java.nio.file.Files.write(file, randomBytes(1000, 16));
      Digest claimed = digestOf(randomBytes(1000, 17));
      assertThatThrownBy(() -> store.putFile(claimed, file)).isInstanceOf(DigestMismatchException.class);
      assertThat(store.findMissing(List.of(claimed))).containsExactly(claimed);
    } finally {
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  @Test
  void putHashedFile_storesTheFilesBytes_andStillChecksTheSize() throws IOException {
    byte[] data = randomBytes(200_000, 18);
    Digest d = digestOf(data);
    java.nio.file.Path shorter = java.nio.file.Files.createTempFile("cairn-contract", ".bin");
    java.nio.file.Path file = java.nio.file.Files.createTempFile("cairn-contract", ".bin");
    try {
      java.nio.file.Files.write(shorter, java.util.Arrays.copyOf(data, data.length - 1));
      assertThatThrownBy(() -> store.putHashedFile(d, shorter))
          .isInstanceOf(DigestMismatchException.class);
      assertThat(store.findMissing(List.of(d))).containsExactly(d);
      java.nio.file.Files.write(file, data);
      store.putHashedFile(d, file);
      assertThat(store.get(d)).isEqualTo(data);
    } finally {
      java.nio.file.Files.deleteIfExists(shorter);
      java.nio.file.Files.deleteIfExists(file);
    }
  }

  @Test
  void put_sameBlobTwice_isIdempotent() throws IOException {
    byte[] data = randomBytes(1234, 13);
    Digest first = store.put(data);
    Digest second = store.put(data);
    assertThat(second).isEqualTo(first);
    assertThat(store.get(first)).isEqualTo(data);
  }

  @Test
  void concurrentWritersAndReaders_ofSameBlob_allSucceed() throws Exception {
    byte[] data = randomBytes(512 * 1024, 14);
    Digest d = digestOf(data);
    try (ExecutorService pool = Executors.newFixedThreadPool(8)) {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        futures.add(pool.submit(() -> {
          store.put(d, new ByteArrayInputStream(data));
          return null;
        }));
        futures.add(pool.submit(() -> {
          try (InputStream in = store.openRead(d, 0)) {
            assertThat(in.readAllBytes()).isEqualTo(data);
          } catch (BlobNotFoundException notYet) {
            // a reader may come before the first writer finishes
          }
          return null;
        }));
      }
      for (Future<?> f : futures) {
        f.get();
      }
    }
    assertThat(store.get(d)).isEqualTo(data);
  }

  @Test
  void manyDistinctBlobs_allReadable() throws IOException {
    List<Digest> digests = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      digests.add(store.put(randomBytes(i * 7 + 1, 1000 + i)));
    }
    assertThat(store.findMissing(digests)).isEmpty();
    for (int i = 0; i < 300; i++) {
      assertThat(store.get(digests.get(i))).isEqualTo(randomBytes(i * 7 + 1, 1000 + i));
    }
  }
}
