package dev.cairn.asset.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.asset.archive.InvalidArchiveException.Reason;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.tree.MerkleTreeBuilder;
import dev.cairn.core.tree.TreeExporter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Random;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipArchiveOutputStream;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorOutputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.apache.commons.compress.compressors.xz.XZCompressorOutputStream;
import org.apache.commons.compress.compressors.zstandard.ZstdCompressorOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Archives made by GNU tar, zip and commons-compress's writers, imported and compared with what
 * {@code cairn import} ({@link MerkleTreeBuilder}) gives for the same tree on disk.
 */
class ArchiveImporterTest {
  @TempDir Path tmp;
  private InMemoryBlobStore store;
  private ArchiveImporter importer;
  private Path scratch;

  @BeforeEach
  void setUp() throws IOException {
    store = new InMemoryBlobStore(DigestFunction.SHA256);
    scratch = Files.createDirectory(tmp.resolve("scratch"));
    importer = new ArchiveImporter(store, DigestFunction.SHA256, ArchiveLimits.defaults(), scratch);
  }

  // ---- equivalence with cairn import ----

  @ParameterizedTest
  @EnumSource(ArchiveFormat.class)
  void importArchive_givesTheDigestCairnImportGivesForTheTreeOnDisk(ArchiveFormat format)
      throws Exception {
    Path tree = sampleTree(tmp.resolve("tree"));
    Path archive = format == ArchiveFormat.ZIP ? zipWithWriter(tree) : gnuTar(tree, format);

    Digest root = importer.importArchive(archive, format);

    assertThat(root).isEqualTo(cairnImport(tree));
    assertThat(ArchiveFormat.detect(archive)).isEqualTo(format);
    assertExportsTo(root, tree);
    assertThat(scratch).isEmptyDirectory();
  }

  @Test
  void importArchive_readsTarGzMadeByGnuTarItself() throws Exception {
    Path tree = sampleTree(tmp.resolve("tree"));
    Path archive = tmp.resolve("native.tar.gz");
    run(tree, "tar", "-czf", archive.toString(), ".");
    assertThat(importer.importArchive(archive, ArchiveFormat.TAR_GZ)).isEqualTo(cairnImport(tree));
  }

  @Test
  void importArchive_readsZipMadeByInfoZip() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/zip")),
        "Info-ZIP's zip is not installed");
    Path tree = sampleTree(tmp.resolve("tree"));
    Path archive = tmp.resolve("infozip.zip");
    // -y stores symlinks as links; Info-ZIP adds no entry for the empty root.
    run(tree, "zip", "-q", "-r", "-y", archive.toString(), ".");
    assertThat(importer.importArchive(archive, ArchiveFormat.ZIP)).isEqualTo(cairnImport(tree));
  }

  @Test
  void importArchive_duplicateEntriesAndHardLinks_matchWhatGnuTarExtracts() throws Exception {
    Path archive = tmp.resolve("dups.tar");
    try (TarArchiveOutputStream out = tarWriter(archive)) {
      file(out, "d/a.txt", "first", 0644);
      file(out, "d/exe", "#!/bin/sh\necho hi\n", 0755);
      file(out, "d/a.txt", "second wins", 0644);
      hardLink(out, "d/b.txt", "d/a.txt");
      hardLink(out, "copy-of-exe", "d/exe");
      file(out, "implicit/parents/leaf.txt", "x", 0600);
      file(out, "gone", "replaced by a symlink", 0644);
      symlink(out, "gone", "d/a.txt");
      dir(out, "d/");
      dir(out, "empty/");
    }
    Path extracted = Files.createDirectory(tmp.resolve("extracted"));
    run(extracted, "tar", "-xf", archive.toString());

    Digest root = importer.importArchive(archive, ArchiveFormat.TAR);

    assertThat(root).isEqualTo(cairnImport(extracted));
    assertThat(Files.readString(extracted.resolve("d/b.txt"))).isEqualTo("second wins");
  }

  @Test
  void importArchive_gnuTarHardLinksFromARealTree_resolveToTheEarlierFile() throws Exception {
    Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
    Files.writeString(tree.resolve("orig"), "shared content");
    Files.createLink(tree.resolve("linked"), tree.resolve("orig"));
    Path archive = tmp.resolve("links.tar");
    run(tree.getParent(), "tar", "-cf", archive.toString(), "sub");
    assertThat(listTar(archive)).contains("hrw-r--r-- ");

    Digest root = importer.importArchive(archive, ArchiveFormat.TAR);

    assertThat(root).isEqualTo(cairnImport(tree.getParent()));
  }

  @Test
  void importArchive_emptyArchive_isTheEmptyTree() throws Exception {
    Path archive = tmp.resolve("empty.tar");
    try (TarArchiveOutputStream out = tarWriter(archive)) {
      dir(out, "./");
    }
    Path empty = Files.createDirectory(tmp.resolve("empty"));
    assertThat(importer.importArchive(archive, ArchiveFormat.TAR)).isEqualTo(cairnImport(empty));
  }

  // ---- hostile entries ----

  @Test
  void importArchive_refusesDotDot_namingTheEntry() throws Exception {
    Path archive = tarOf(out -> file(out, "ok/../../evil", "x", 0644));
    assertRefused(archive, ArchiveFormat.TAR, Reason.UNSAFE_ENTRY, "ok/../../evil", "'..'");
  }

  @Test
  void importArchive_refusesAbsolutePaths() throws Exception {
    Path archive = tarOf(out -> {
      TarArchiveEntry e = new TarArchiveEntry("/etc/cron.d/evil", true);
      e.setSize(1);
      out.putArchiveEntry(e);
      out.write('x');
      out.closeArchiveEntry();
    });
    assertRefused(archive, ArchiveFormat.TAR, Reason.UNSAFE_ENTRY, "/etc/cron.d/evil", "absolute");
  }

  @Test
  void importArchive_refusesNulInAZipName() throws Exception {
    Path archive = tmp.resolve("nul.zip");
    try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(archive)) {
      ZipArchiveEntry e = new ZipArchiveEntry("a\0b.txt");
      out.putArchiveEntry(e);
      out.write('x');
      out.closeArchiveEntry();
    }
    assertRefused(archive, ArchiveFormat.ZIP, Reason.UNSAFE_ENTRY, "a\\x00b.txt", "NUL");
  }

  @Test
  void importArchive_refusesAnEntryUnderASymlinkTheArchiveMade() throws Exception {
    Path archive = tarOf(out -> {
      symlink(out, "link", "/etc");
      file(out, "link/passwd", "root::0:0::/:/bin/sh\n", 0644);
    });
    assertRefused(archive, ArchiveFormat.TAR, Reason.UNSAFE_ENTRY, "link/passwd", "symlink");
  }

  @Test
  void importArchive_refusesADirectoryEntryOverASymlinkAndAHardLinkThroughOne() throws Exception {
    assertRefused(tarOf(out -> {
      symlink(out, "link", "/tmp");
      dir(out, "link/");
    }), ArchiveFormat.TAR, Reason.UNSAFE_ENTRY, "link/", "symlink");
    assertRefused(tarOf(out -> {
      symlink(out, "link", "/etc");
      hardLink(out, "stolen", "link/shadow");
    }), ArchiveFormat.TAR, Reason.UNSAFE_ENTRY, "stolen", "symlink");
  }

  @Test
  void importArchive_refusesDevicesAndFifos() throws Exception {
    for (byte type : new byte[] {TarArchiveEntry.LF_CHR, TarArchiveEntry.LF_BLK, TarArchiveEntry.LF_FIFO}) {
      Path archive = tarOf(out -> {
        TarArchiveEntry e = new TarArchiveEntry("dev/thing", type);
        out.putArchiveEntry(e);
        out.closeArchiveEntry();
      });
      assertRefused(archive, ArchiveFormat.TAR, Reason.UNSUPPORTED_ENTRY, "dev/thing",
          type == TarArchiveEntry.LF_FIFO ? "fifo" : "device");
    }
  }

  @Test
  void importArchive_refusesAFileReplacingADirectory() throws Exception {
    Path archive = tarOf(out -> {
      file(out, "d/inner", "x", 0644);
      file(out, "d", "y", 0644);
    });
    assertRefused(archive, ArchiveFormat.TAR, Reason.UNSAFE_ENTRY, "'d'", "directory");
  }

  @Test
  void importArchive_refusesAHardLinkToNothing() throws Exception {
    Path archive = tarOf(out -> hardLink(out, "a", "never-written"));
    assertRefused(archive, ArchiveFormat.TAR, Reason.CORRUPT, "never-written", "hard link");
  }

  // ---- archive bombs ----

  @Test
  void importArchive_stopsAtTheByteLimit_countingWhatIsReadNotWhatHeadersSay() throws Exception {
    Path archive = tmp.resolve("bomb.tar.gz");
    try (OutputStream gz = new GzipCompressorOutputStream(Files.newOutputStream(archive));
        TarArchiveOutputStream out = new TarArchiveOutputStream(gz)) {
      for (int i = 0; i < 4; i++) {
        TarArchiveEntry e = new TarArchiveEntry("zeros-" + i);
        e.setSize(3 << 20);
        out.putArchiveEntry(e);
        out.write(new byte[3 << 20]);
        out.closeArchiveEntry();
      }
    }
    assertThat(Files.size(archive)).isLessThan(100_000);
    ArchiveImporter limited = new ArchiveImporter(
        store, DigestFunction.SHA256, new ArchiveLimits(10L << 20, 1000), scratch);

    assertThatThrownBy(() -> limited.importArchive(archive, ArchiveFormat.TAR_GZ))
        .isInstanceOfSatisfying(InvalidArchiveException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.LIMIT_EXCEEDED))
        .hasMessageContaining("zeros-3").hasMessageContaining(String.valueOf(10L << 20));
    assertThat(scratch).isEmptyDirectory();
  }

  @Test
  void importArchive_stopsAtTheEntryLimit() throws Exception {
    Path archive = tarOf(out -> {
      for (int i = 0; i < 50; i++) {
        file(out, "f" + i, "", 0644);
      }
    });
    ArchiveImporter limited = new ArchiveImporter(
        store, DigestFunction.SHA256, new ArchiveLimits(1 << 20, 20), scratch);
    assertThatThrownBy(() -> limited.importArchive(archive, ArchiveFormat.TAR))
        .isInstanceOfSatisfying(InvalidArchiveException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.LIMIT_EXCEEDED))
        .hasMessageContaining("'f20'").hasMessageContaining("more than 20 entries");
  }

  @Test
  void importArchive_zipBombOfOverlappingEntries_stopsAtTheByteLimit() throws Exception {
    Path archive = tmp.resolve("bomb.zip");
    try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(archive)) {
      for (int i = 0; i < 8; i++) {
        out.putArchiveEntry(new ZipArchiveEntry("big-" + i));
        out.write(new byte[2 << 20]);
        out.closeArchiveEntry();
      }
    }
    ArchiveImporter limited = new ArchiveImporter(
        store, DigestFunction.SHA256, new ArchiveLimits(5L << 20, 1000), scratch);
    assertThatThrownBy(() -> limited.importArchive(archive, ArchiveFormat.ZIP))
        .isInstanceOfSatisfying(InvalidArchiveException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.LIMIT_EXCEEDED))
        .hasMessageContaining("big-2");
  }

  // ---- truncated and corrupt ----

  @ParameterizedTest
  @EnumSource(ArchiveFormat.class)
  void importArchive_truncatedArchive_isAClearError(ArchiveFormat format) throws Exception {
    Path tree = sampleTree(tmp.resolve("tree"));
    Path whole = format == ArchiveFormat.ZIP ? zipWithWriter(tree) : gnuTar(tree, format);
    byte[] bytes = Files.readAllBytes(whole);
    Path cut = tmp.resolve("cut-" + whole.getFileName());
    Files.write(cut, java.util.Arrays.copyOf(bytes, bytes.length * 2 / 3));

    assertThatThrownBy(() -> importer.importArchive(cut, format))
        .isInstanceOfSatisfying(InvalidArchiveException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.CORRUPT))
        .hasMessageContaining(cut.toString());
    assertThat(scratch).isEmptyDirectory();
  }

  @Test
  void importArchive_corruptGzip_isAClearError() throws Exception {
    Path tree = sampleTree(tmp.resolve("tree"));
    Path archive = gnuTar(tree, ArchiveFormat.TAR_GZ);
    byte[] bytes = Files.readAllBytes(archive);
    for (int i = bytes.length / 2; i < bytes.length / 2 + 64; i++) {
      bytes[i] ^= 0x5a;
    }
    Files.write(archive, bytes);
    assertThatThrownBy(() -> importer.importArchive(archive, ArchiveFormat.TAR_GZ))
        .isInstanceOfSatisfying(InvalidArchiveException.class,
            e -> assertThat(e.reason()).isEqualTo(Reason.CORRUPT))
        .hasMessageContaining("corrupt or truncated");
  }

  @Test
  void importArchive_wrongFormat_isAClearError() throws Exception {
    Path text = Files.writeString(tmp.resolve("readme.txt"), "not an archive at all\n".repeat(40));
    assertThatThrownBy(() -> importer.importArchive(text, ArchiveFormat.TAR_GZ))
        .isInstanceOf(InvalidArchiveException.class).hasMessageContaining("not a valid tar.gz");
    assertThatThrownBy(() -> importer.importArchive(text, ArchiveFormat.TAR))
        .isInstanceOf(InvalidArchiveException.class).hasMessageContaining("readme.txt");
    assertThatThrownBy(() -> importer.importArchive(text, ArchiveFormat.ZIP))
        .isInstanceOf(InvalidArchiveException.class).hasMessageContaining("not a valid zip");
    assertThatThrownBy(() -> ArchiveFormat.detect(text))
        .isInstanceOf(InvalidArchiveException.class).hasMessageContaining("not a recognised archive");
  }

  // ---- formats ----

  @Test
  void fromResourceType_knowsTheMediaTypesClientsSend() {
    assertThat(ArchiveFormat.fromResourceType("application/x-tar")).isEqualTo(ArchiveFormat.TAR);
    assertThat(ArchiveFormat.fromResourceType("application/gzip")).isEqualTo(ArchiveFormat.TAR_GZ);
    assertThat(ArchiveFormat.fromResourceType("Application/X-GZIP")).isEqualTo(ArchiveFormat.TAR_GZ);
    assertThat(ArchiveFormat.fromResourceType("application/x-xz")).isEqualTo(ArchiveFormat.TAR_XZ);
    assertThat(ArchiveFormat.fromResourceType("application/x-bzip2")).isEqualTo(ArchiveFormat.TAR_BZ2);
    assertThat(ArchiveFormat.fromResourceType("application/zstd")).isEqualTo(ArchiveFormat.TAR_ZST);
    assertThat(ArchiveFormat.fromResourceType("application/zip; charset=binary"))
        .isEqualTo(ArchiveFormat.ZIP);
    assertThat(ArchiveFormat.lookupResourceType("application/x-git")).isEmpty();
    assertThatThrownBy(() -> ArchiveFormat.fromResourceType("text/plain"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'text/plain'");
  }

  @Test
  void detect_recognisesOldV7TarsByTheirHeaderChecksum() throws Exception {
    Path archive = tmp.resolve("v7.tar");
    try (TarArchiveOutputStream out = tarWriter(archive)) {
      file(out, "a", "x", 0644);
    }
    byte[] bytes = Files.readAllBytes(archive);
    // Blank the ustar magic and version, then fix the checksum as a v7 tar would have it.
    for (int i = 257; i < 265; i++) {
      bytes[i] = 0;
    }
    long sum = 0;
    for (int i = 0; i < 512; i++) {
      sum += (i >= 148 && i < 156) ? ' ' : (bytes[i] & 0xff);
    }
    byte[] field = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(field, 0, bytes, 148, 8);
    assertThat(ArchiveFormat.detect(bytes)).contains(ArchiveFormat.TAR);
    assertThat(ArchiveFormat.detect(new byte[512])).isEmpty();
  }

  // ---- helpers ----

  /** Files, an executable, symlinks, empty and nested directories, names outside the BMP. */
  static Path sampleTree(Path root) throws IOException {
    Files.createDirectories(root.resolve("src/main/deep/er/still"));
    Files.createDirectories(root.resolve("empty-dir"));
    Files.createDirectories(root.resolve("nested/empty"));
    Files.writeString(root.resolve("README.md"), "hello\n");
    Files.writeString(root.resolve("src/main/deep/er/still/x.txt"), "deep\n");
    Files.writeString(root.resolve("src/same-a.txt"), "duplicate content\n");
    Files.writeString(root.resolve("src/same-b.txt"), "duplicate content\n");
    Files.write(root.resolve("empty-file"), new byte[0]);
    Path exe = Files.writeString(root.resolve("run.sh"), "#!/bin/sh\necho run\n");
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    // Outside the BMP, and names whose UTF-16 and UTF-8 orders differ.
    Files.writeString(root.resolve("\uD834\uDD1E-clef.txt"), "music\n");
    Files.writeString(root.resolve("\uFF41-fullwidth.txt"), "bmp\n");
    Files.writeString(root.resolve("\uD83D\uDE00.txt"), "smile\n");
    Files.createDirectories(root.resolve("\u00e9t\u00e9"));
    Files.writeString(root.resolve("\u00e9t\u00e9/caf\u00e9.txt"), "accent\n");
    byte[] big = new byte[3 << 20];
    new Random(42).nextBytes(big);
    Files.write(root.resolve("src/big.bin"), big);
    Path bigExe = Files.write(root.resolve("src/big-tool"), java.util.Arrays.copyOf(big, 300_000));
    Files.setPosixFilePermissions(bigExe, PosixFilePermissions.fromString("rwxr-x---"));
    Files.createSymbolicLink(root.resolve("link-rel"), Path.of("src/same-a.txt"));
    Files.createSymbolicLink(root.resolve("src/link-up"), Path.of("../README.md"));
    Files.createSymbolicLink(root.resolve("link-abs"), Path.of("/etc/hostname"));
    Files.createSymbolicLink(root.resolve("link-dangling"), Path.of("no/such/thing"));
    Files.createSymbolicLink(root.resolve("link-dir"), Path.of("src"));
    return root;
  }

  private Digest cairnImport(Path dir) throws IOException {
    return new MerkleTreeBuilder(new InMemoryBlobStore(DigestFunction.SHA256)).build(dir).root();
  }

  /** Every blob of the tree is in the store: exporting it gives the same tree back. */
  private void assertExportsTo(Digest root, Path original) throws IOException {
    Path out = tmp.resolve("export-" + System.nanoTime());
    new TreeExporter(store).export(root, out);
    assertThat(cairnImport(out)).isEqualTo(cairnImport(original));
  }

  /** A tar made by GNU tar from {@code tree}, compressed with commons-compress as the format says. */
  private Path gnuTar(Path tree, ArchiveFormat format) throws Exception {
    Path tar = tmp.resolve("gnu-" + System.nanoTime() + ".tar");
    run(tree, "tar", "-cf", tar.toString(), ".");
    if (format == ArchiveFormat.TAR) {
      return tar;
    }
    Path compressed = tmp.resolve(tar.getFileName() + "." + format.name().toLowerCase());
    try (OutputStream file = Files.newOutputStream(compressed);
        OutputStream out = switch (format) {
          case TAR_GZ -> new GzipCompressorOutputStream(file);
          case TAR_XZ -> new XZCompressorOutputStream(file);
          case TAR_BZ2 -> new BZip2CompressorOutputStream(file);
          case TAR_ZST -> new ZstdCompressorOutputStream(file);
          default -> throw new IllegalArgumentException(format.name());
        }) {
      Files.copy(tar, out);
    }
    return compressed;
  }

  /** A zip of {@code tree} with Unix modes and symlinks, as Info-ZIP writes them. */
  private Path zipWithWriter(Path tree) throws IOException {
    Path zip = tmp.resolve("writer-" + System.nanoTime() + ".zip");
    try (ZipArchiveOutputStream out = new ZipArchiveOutputStream(zip);
        var paths = Files.walk(tree)) {
      for (Path p : paths.sorted().toList()) {
        if (p.equals(tree)) {
          continue;
        }
        String name = tree.relativize(p).toString();
        if (Files.isSymbolicLink(p)) {
          ZipArchiveEntry e = new ZipArchiveEntry(name);
          e.setUnixMode(0120777);
          out.putArchiveEntry(e);
          out.write(Files.readSymbolicLink(p).toString().getBytes(StandardCharsets.UTF_8));
        } else if (Files.isDirectory(p)) {
          ZipArchiveEntry e = new ZipArchiveEntry(name + "/");
          e.setUnixMode(040755);
          out.putArchiveEntry(e);
        } else {
          ZipArchiveEntry e = new ZipArchiveEntry(name);
          e.setUnixMode(0100000 | (Files.isExecutable(p) ? 0755 : 0644));
          out.putArchiveEntry(e);
          Files.copy(p, out);
        }
        out.closeArchiveEntry();
      }
    }
    return zip;
  }

  interface TarBody {
    void write(TarArchiveOutputStream out) throws IOException;
  }

  private Path tarOf(TarBody body) throws IOException {
    Path archive = tmp.resolve("t-" + System.nanoTime() + ".tar");
    try (TarArchiveOutputStream out = tarWriter(archive)) {
      body.write(out);
    }
    return archive;
  }

  private static TarArchiveOutputStream tarWriter(Path archive) throws IOException {
    TarArchiveOutputStream out = new TarArchiveOutputStream(Files.newOutputStream(archive),
        StandardCharsets.UTF_8.name());
    out.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    return out;
  }

  private static void file(TarArchiveOutputStream out, String name, String content, int mode)
      throws IOException {
    byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
    TarArchiveEntry e = new TarArchiveEntry(name);
    e.setSize(bytes.length);
    e.setMode(0100000 | mode);
    out.putArchiveEntry(e);
    out.write(bytes);
    out.closeArchiveEntry();
  }

  private static void dir(TarArchiveOutputStream out, String name) throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_DIR);
    e.setMode(040755);
    out.putArchiveEntry(e);
    out.closeArchiveEntry();
  }

  private static void symlink(TarArchiveOutputStream out, String name, String target)
      throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
    e.setLinkName(target);
    out.putArchiveEntry(e);
    out.closeArchiveEntry();
  }

  private static void hardLink(TarArchiveOutputStream out, String name, String target)
      throws IOException {
    TarArchiveEntry e = new TarArchiveEntry(name, TarArchiveEntry.LF_LINK);
    e.setLinkName(target);
    out.putArchiveEntry(e);
    out.closeArchiveEntry();
  }

  private void assertRefused(Path archive, ArchiveFormat format, Reason reason, String... words) {
    assertThatThrownBy(() -> importer.importArchive(archive, format))
        .isInstanceOfSatisfying(InvalidArchiveException.class, e -> {
          assertThat(e.reason()).isEqualTo(reason);
          for (String w : words) {
            assertThat(e.getMessage()).contains(w);
          }
        });
    assertThat(scratch).isEmptyDirectory();
  }

  private static String listTar(Path archive) throws Exception {
    Process p = new ProcessBuilder("tar", "-tvf", archive.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).isZero();
    return out;
  }

  private static void run(Path dir, String... command) throws Exception {
    Process p = new ProcessBuilder(List.of(command)).directory(dir.toFile())
        .redirectErrorStream(true).start();
    String out;
    try (InputStream in = p.getInputStream()) {
      out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
  }
}
