package dev.cairn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.blob.VerifyingBlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class VerifyingBlobStoreTest extends BlobStoreContractTest {
  private InMemoryBlobStore backing;

  @Override
  protected BlobStore newStore() {
    backing = new InMemoryBlobStore();
    return new VerifyingBlobStore(backing);
  }

  @Test
  void read_ofRottenBlob_failsInsteadOfEnding() throws IOException {
    byte[] data = randomBytes(10_000, 20);
    Digest d = store.put(data);
    byte[] rotten = data.clone();
    rotten[5000] ^= 1;
    backing.corrupt(d, rotten);
    assertThatThrownBy(() -> store.get(d)).isInstanceOf(DigestMismatchException.class);
    try (InputStream in = store.openRead(d, 0)) {
      assertThatThrownBy(in::readAllBytes).isInstanceOf(DigestMismatchException.class);
    }
  }

  @Test
  void read_fromOffset_ofTruncatedBlob_fails() throws IOException {
    byte[] data = randomBytes(10_000, 21);
    Digest d = store.put(data);
    backing.corrupt(d, java.util.Arrays.copyOf(data, 9000));
    try (InputStream in = store.openRead(d, 100)) {
      assertThatThrownBy(in::readAllBytes).isInstanceOf(DigestMismatchException.class);
    }
  }

  @Test
  void wrongPut_neverReachesBackingStore() throws IOException {
    byte[] data = randomBytes(100, 22);
    Digest claimed = new Digest(digestOf(data).hash().replace('a', 'b').replace('0', '1'), 100);
    assertThatThrownBy(() -> store.put(claimed, data)).isInstanceOf(DigestMismatchException.class);
    assertThat(backing.size()).isZero();
  }
}
