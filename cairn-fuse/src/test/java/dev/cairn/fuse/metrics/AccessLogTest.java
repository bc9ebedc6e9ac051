package dev.cairn.fuse.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AccessLogTest {
  @TempDir Path tmp;

  @Test
  void writeTo_writesSortedDistinctPaths_inUtf8ByteOrder() throws IOException {
    AccessLog log = new AccessLog();
    for (String p : List.of("src/main.c", "include/a.h", "src/main.c", "src/\uD83D\uDE00.c",
        "src/\uFFFD.c", "src-gen/x", "src/b", "")) {
      log.record(p);
    }
    Path out = tmp.resolve("accessed.txt");
    log.writeTo(out);
    // '-' (0x2D) < '/' (0x2F); U+FFFD (EF BF BD) < U+1F600 (F0 9F 98 80), unlike UTF-16 order.
    assertThat(Files.readAllLines(out, StandardCharsets.UTF_8)).containsExactly(
        ".", "include/a.h", "src-gen/x", "src/b", "src/main.c", "src/\uFFFD.c", "src/\uD83D\uDE00.c");
  }

  @Test
  void writeTo_escapesNewlinesAndBackslashes_soEachLineIsOnePath() throws IOException {
    AccessLog log = new AccessLog();
    log.record("odd\nname");
    log.record("back\\slash");
    Path out = tmp.resolve("a.txt");
    log.writeTo(out);
    assertThat(Files.readString(out)).isEqualTo("back\\\\slash\nodd\\nname\n");
  }

  @Test
  void writeTo_replacesAnOldListAtomically_andLeavesNoTempFiles() throws IOException {
    Path out = Files.writeString(tmp.resolve("a.txt"), "old\n");
    AccessLog log = new AccessLog();
    log.record("new");
    log.writeTo(out);
    assertThat(Files.readString(out)).isEqualTo("new\n");
    try (Stream<Path> files = Files.list(tmp)) {
      assertThat(files).containsExactly(out);
    }
  }

  @Test
  void writeTo_missingDirectory_failsWithoutTouchingAnything() {
    AccessLog log = new AccessLog();
    log.record("x");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> log.writeTo(tmp.resolve("no/such/file")))
        .isInstanceOf(IOException.class);
    assertThat(log.size()).isEqualTo(1);
  }

  @Test
  void record_isSafeFromManyThreads() throws Exception {
    AccessLog log = new AccessLog();
    try (ExecutorService pool = Executors.newFixedThreadPool(4)) {
      List<Future<?>> done = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        done.add(pool.submit(() -> {
          for (int i = 0; i < 10_000; i++) {
            log.record("d/" + i);
          }
        }));
      }
      for (Future<?> f : done) {
        f.get();
      }
    }
    assertThat(log.size()).isEqualTo(10_000);
    assertThat(log.sorted()).isSortedAccordingTo(dev.cairn.core.tree.Name.UTF8_ORDER).doesNotHaveDuplicates();
  }
}
