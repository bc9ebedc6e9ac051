package dev.cairn.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.blob.InMemoryBlobStore.Operation;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class InMemoryBlobStoreTest extends BlobStoreContractTest {
  @Override
  protected BlobStore newStore() {
    return new InMemoryBlobStore();
  }

  @Test
  void failNext_failsExactlyOneCall() throws IOException {
    InMemoryBlobStore memory = (InMemoryBlobStore) store;
    memory.failNext(Operation.FIND_MISSING, new IOException("injected"));
    assertThatThrownBy(() -> memory.findMissing(List.of())).hasMessage("injected");
    assertThat(memory.findMissing(List.of())).isEmpty();
    assertThat(memory.calls(Operation.FIND_MISSING)).isEqualTo(2);
  }
}
