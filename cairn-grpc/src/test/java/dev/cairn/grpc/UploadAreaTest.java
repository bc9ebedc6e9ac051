package dev.cairn.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.DigestFunction;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UploadAreaTest {
  @TempDir Path dir;

  @Test
  void partialUploads_expireAfterTheirTime_unlessBeingWritten() throws Exception {
    AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-01-01T00:00:00Z"));
    InstantSource clock = now::get;
    UploadArea area = new UploadArea(dir, Duration.ofHours(1), clock);
    String hash = DigestFunction.SHA256.digestOf(new byte[] {1}).hash();
    Path old = area.fileFor(ResourceName.parseWrite("uploads/a/blobs/" + hash + "/1"));
    Path busy = area.fileFor(ResourceName.parseWrite("uploads/b/blobs/" + hash + "/1"));
    Path fresh = area.fileFor(ResourceName.parseWrite("uploads/c/blobs/" + hash + "/1"));
    for (Path p : new Path[] {old, busy, fresh}) {
      Files.writeString(p, "partial");
    }
    Files.setLastModifiedTime(old, FileTime.from(now.get().minus(Duration.ofMinutes(61))));
    Files.setLastModifiedTime(busy, FileTime.from(now.get().minus(Duration.ofMinutes(61))));
    Files.setLastModifiedTime(fresh, FileTime.from(now.get().minus(Duration.ofMinutes(59))));
    assertThat(area.acquire(busy, Duration.ZERO)).isTrue();

    assertThat(area.expire()).isEqualTo(1);
    assertThat(old).doesNotExist();
    assertThat(busy).exists();
    assertThat(fresh).exists();

    area.release(busy);
    now.set(now.get().plus(Duration.ofMinutes(2)));
    assertThat(area.expire()).isEqualTo(2);
  }

  @Test
  void sameResource_sameFile_differentUploadIds_differentFiles() {
    UploadArea area;
    try {
      area = new UploadArea(dir, Duration.ofHours(1), InstantSource.system());
    } catch (java.io.IOException e) {
      throw new AssertionError(e);
    }
    String hash = DigestFunction.SHA256.digestOf(new byte[] {2}).hash();
    assertThat(area.fileFor(ResourceName.parseWrite("i/uploads/u/blobs/" + hash + "/1")))
        .isEqualTo(area.fileFor(ResourceName.parseWrite("i/uploads/u/blobs/" + hash + "/1/meta")))
        .isNotEqualTo(area.fileFor(ResourceName.parseWrite("i/uploads/v/blobs/" + hash + "/1")))
        .isNotEqualTo(area.fileFor(ResourceName.parseWrite("j/uploads/u/blobs/" + hash + "/1")));
  }
}
