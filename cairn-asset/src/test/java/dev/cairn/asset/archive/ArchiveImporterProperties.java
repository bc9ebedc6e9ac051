package dev.cairn.asset.archive;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.MerkleTreeBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * For random sequences of tar entries (files, directories, symlinks, repeated paths, names outside
 * the BMP), the imported root equals {@code cairn import} of what GNU tar extracts from the same
 * archive, or the importer refuses the archive where tar would have to replace a directory.
 */
class ArchiveImporterProperties {

  record Entry(int kind, List<String> path, String content, boolean executable) {}

  @Provide
  Arbitrary<List<Entry>> entries() {
    // A small alphabet so that paths collide: duplicates, files becoming parents, and so on.
    Arbitrary<String> name = Arbitraries.of("a", "b", "\u00e9", "\uD83D\uDE00", "z\uFF41", "A");
    Arbitrary<List<String>> path = name.list().ofMinSize(1).ofMaxSize(3);
    Arbitrary<Entry> entry = Combinators.combine(
        Arbitraries.integers().between(0, 2), path,
        Arbitraries.strings().alpha().ofMaxLength(20), Arbitraries.of(true, false))
        .as(Entry::new);
    return entry.list().ofMinSize(1).ofMaxSize(12);
  }

  @Property(tries = 60)
  void importEqualsCairnImportOfTheTarExtraction(@ForAll("entries") List<Entry> entries)
      throws Exception {
    Path tmp = Files.createTempDirectory("archive-prop");
    try {
      Path archive = tmp.resolve("t.tar");
      try (TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(archive),
          StandardCharsets.UTF_8.name())) {
        out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
        for (Entry e : entries) {
          String p = String.join("/", e.path());
          TarArchiveEntry t = switch (e.kind()) {
            case 0 -> {
              TarArchiveEntry f = new TarArchiveEntry(p);
              f.setSize(e.content().getBytes(StandardCharsets.UTF_8).length);
              f.setMode(e.executable() ? 0100755 : 0100644);
              yield f;
            }
            case 1 -> {
              TarArchiveEntry d = new TarArchiveEntry(p + "/", TarArchiveEntry.LF_DIR);
              d.setMode(040755);
              yield d;
            }
            default -> {
              TarArchiveEntry l = new TarArchiveEntry(p, TarArchiveEntry.LF_SYMLINK);
              l.setLinkName("target-" + e.content());
              yield l;
            }
          };
          out.putArchiveEntry(t);
          if (e.kind() == 0) {
            out.write(e.content().getBytes(StandardCharsets.UTF_8));
          }
          out.closeArchiveEntry();
        }
      }
      Digest imported;
      try {
        imported = new ArchiveImporter(new InMemoryBlobStore(), DigestFunction.SHA256,
            ArchiveLimits.defaults(), tmp).importArchive(archive, ArchiveFormat.TAR);
      } catch (InvalidArchiveException refused) {
        // Refused only where extraction would go through a symlink or replace a directory.
        assertThat(refused.reason()).isEqualTo(InvalidArchiveException.Reason.UNSAFE_ENTRY);
        assertThat(refused.getMessage()).containsAnyOf("symlink", "directory", "not a directory");
        net.jqwik.api.statistics.Statistics.collect("refused");
        return;
      }
      Path extracted = Files.createDirectory(tmp.resolve("x"));
      Process tar = new ProcessBuilder("tar", "-xf", archive.toString(), "-C", extracted.toString())
          .redirectErrorStream(true).start();
      String output = new String(tar.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(tar.waitFor()).as(output).isZero();
      Digest onDisk = new MerkleTreeBuilder(new InMemoryBlobStore()).build(extracted).root();
      assertThat(imported).isEqualTo(onDisk);
      net.jqwik.api.statistics.Statistics.collect("compared with tar -x");
    } finally {
      deleteTree(tmp);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
