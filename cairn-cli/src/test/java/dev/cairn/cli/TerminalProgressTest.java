package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.tree.Progress;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TerminalProgressTest {

  @Test
  void bar_showsTaskPercentAndFilesDone() {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    Progress progress = new TerminalProgress(new PrintStream(buffer, true, StandardCharsets.UTF_8), 100);

    progress.start("import", 3, 3L << 20);
    progress.advance(1L << 20);
    progress.advance(1L << 20);
    progress.advance(1L << 20);
    progress.finish();

    String shown = buffer.toString(StandardCharsets.UTF_8);
    assertThat(shown).contains("import", "100%", "3/3 MiB", "3/3 files");
  }

  @Test
  void filesDoneBeforeStart_countTowardsTheBar() {
    // An import hashes while its walk still counts the total.
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    Progress progress = new TerminalProgress(new PrintStream(buffer, true, StandardCharsets.UTF_8), 100);

    progress.advance(1L << 20);
    progress.advance(1L << 20);
    progress.start("import", 4, 4L << 20);
    progress.advance(1L << 20);
    progress.advance(1L << 20);
    progress.finish();

    String shown = buffer.toString(StandardCharsets.UTF_8);
    assertThat(shown).contains("100%", "4/4 MiB", "4/4 files");
  }

  @Test
  void finish_withoutStart_isHarmless() {
    new TerminalProgress(new PrintStream(new ByteArrayOutputStream()), 80).finish();
  }

  @Test
  void notInteractive_meansNoBarAtAll() {
    Invocation io = new Invocation(new ByteArrayOutputStream(), new PrintStream(new ByteArrayOutputStream()), Map.of(), false);

    assertThat(TerminalProgress.forInvocation(io)).isSameAs(Progress.NONE);
  }
}
