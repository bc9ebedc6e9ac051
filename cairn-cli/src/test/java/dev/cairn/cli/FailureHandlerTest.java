package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import org.junit.jupiter.api.Test;

class FailureHandlerTest {

  private static final Digest DIGEST = new Digest("cd".repeat(32), 9);

  @Test
  void describe_namesTheDigestOrPath() {
    assertThat(FailureHandler.describe(new BlobNotFoundException(DIGEST, "tree x")))
        .isEqualTo("blob " + DIGEST + " not found");
    assertThat(FailureHandler.describe(new NoSuchFileException("a/b")))
        .isEqualTo("a/b: no such file or directory");
    assertThat(FailureHandler.describe(new NoSuchFileException("a/b", null, "no such entry in tree t")))
        .isEqualTo("a/b: no such entry in tree t");
    assertThat(FailureHandler.describe(new AccessDeniedException("/secret")))
        .isEqualTo("/secret: permission denied");
    assertThat(FailureHandler.describe(new FileSystemException("/dev/full", null, "No space left on device")))
        .isEqualTo("/dev/full: No space left on device");
  }

  @Test
  void describe_copesWithMissingDetails() {
    assertThat(FailureHandler.describe(new FileSystemException(null, null, "odd"))).isEqualTo("odd");
    assertThat(FailureHandler.describe(new IOException())).isEqualTo("IOException");
    assertThat(FailureHandler.describe(new UncheckedIOException(new NoSuchFileException("f"))))
        .isEqualTo("f: no such file or directory");
  }

  @Test
  void describe_saysWhenTheStoreIsFull() {
    assertThat(FailureHandler.describe(new StoreFullException("blob x is larger than the limit")))
        .isEqualTo("store full: blob x is larger than the limit");
  }

  @Test
  void describe_unexpectedFailures_pointToCairnDebug() {
    assertThat(FailureHandler.describe(new IllegalStateException("boom")))
        .startsWith("internal error: java.lang.IllegalStateException: boom")
        .contains("CAIRN_DEBUG");
  }
}
