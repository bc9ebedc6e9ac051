package dev.cairn.asset.archive;

import com.github.luben.zstd.ZstdInputStream;
import dev.cairn.asset.archive.InvalidArchiveException.Reason;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Enumeration;
import java.util.Objects;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.zip.ZipArchiveEntry;
import org.apache.commons.compress.archivers.zip.ZipFile;
import org.apache.commons.compress.compressors.bzip2.BZip2CompressorInputStream;
import org.tukaani.xz.XZInputStream;

/**
 * Unpacks an archive straight into a CAS as a Merkle tree and gives its root Directory digest,
 * the same digest {@code cairn import} gives for the tree extracted on disk, without writing the
 * tree to disk: entry contents stream into the store (see {@link BlobUploader}) while the
 * directory structure is kept in memory ({@link ArchiveTree}), then encoded canonically.
 *
 * <p>Hostile archives are refused with {@link InvalidArchiveException} naming the entry: paths
 * with {@code ..}, absolute paths, NUL, entries under a symlink the archive made, devices and
 * fifos, archives beyond {@link ArchiveLimits}, truncated or corrupt data. Blobs stored before a
 * refusal stay in the store (content-addressed, harmless) but no root is returned. Symlink
 * targets are stored verbatim and never followed. Thread-safe: each call works on its own state.
 */
public final class ArchiveImporter {
  /** PATH_MAX: a longer symlink target could not be created on disk. */
  private static final int MAX_LINK_TARGET = 4096;
  private static final int IO_BUFFER = 64 * 1024;

  private final BlobStore store;
  private final DigestFunction function;
  private final ArchiveLimits limits;
  private final Path scratchDirectory;

  /** Large entries are spooled under the system temporary directory. */
  public ArchiveImporter(BlobStore store, DigestFunction function, ArchiveLimits limits) {
    this(store, function, limits, Path.of(System.getProperty("java.io.tmpdir")));
  }

  /**
   * @param scratchDirectory where large entries are spooled while they are hashed; on the store's
   *     file system, a disk store takes the spooled file over instead of copying it
   */
  public ArchiveImporter(BlobStore store, DigestFunction function, ArchiveLimits limits,
      Path scratchDirectory) {
    this.store = Objects.requireNonNull(store, "store");
    this.function = Objects.requireNonNull(function, "function");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.scratchDirectory = Objects.requireNonNull(scratchDirectory, "scratchDirectory");
    if (store.digestFunction() != function) {
      throw new IllegalArgumentException("the store hashes with " + store.digestFunction()
          + ", not " + function);
    }
  }

  /** The root digest of the tree {@code archive} holds. */
  public Digest importArchive(Path archive, ArchiveFormat format) throws IOException {
    Objects.requireNonNull(format, "format");
    String name = archive.toString();
    Path scratch = Files.createTempDirectory(scratchDirectory, "cairn-archive-");
    try (BlobUploader uploader = new BlobUploader(
        store, function, scratch, limits.maxExtractedBytes(), name)) {
      ArchiveTree tree = new ArchiveTree(name);
      Walk walk = new Walk(name, tree, uploader);
      if (format == ArchiveFormat.ZIP) {
        readZip(archive, walk);
      } else {
        readTar(archive, format, walk);
      }
      Digest root = tree.encode(function, uploader::putDirectory);
      uploader.finish();
      return root;
    } finally {
      deleteTree(scratch);
    }
  }

  /** The state of one import: where entries go, and how many there were. */
  private final class Walk {
    final String archive;
    final ArchiveTree tree;
    final BlobUploader uploader;
    long entries;
    String lastEntry;

    Walk(String archive, ArchiveTree tree, BlobUploader uploader) {
      this.archive = archive;
      this.tree = tree;
      this.uploader = uploader;
    }

    void countEntry(String raw) throws InvalidArchiveException {
      if (++entries > limits.maxEntries()) {
        throw new InvalidArchiveException(Reason.LIMIT_EXCEEDED, archive
            + ": extraction stopped at entry '" + EntryPath.printable(raw) + "': more than "
            + limits.maxEntries() + " entries (the limit)");
      }
      lastEntry = raw;
    }

    String where() {
      return lastEntry == null ? "before the first entry" : "after entry '"
          + EntryPath.printable(lastEntry) + "'";
    }

    InvalidArchiveException unsupported(String raw, String what) {
      return new InvalidArchiveException(Reason.UNSUPPORTED_ENTRY, archive + ": entry '"
          + EntryPath.printable(raw) + "' refused: " + what
          + "; only files, directories and symlinks can be stored");
    }

    String linkTarget(String raw, String target) throws InvalidArchiveException {
      if (target == null || target.isEmpty()) {
        throw new InvalidArchiveException(Reason.CORRUPT, archive + ": entry '"
            + EntryPath.printable(raw) + "' is a symlink with an empty target");
      }
      if (target.indexOf('\0') >= 0) {
        throw EntryPath.unsafe(archive, raw, "symlink target contains NUL");
      }
      if (target.indexOf('\uFFFD') >= 0) {
        throw EntryPath.unsafe(archive, raw, "symlink target is not valid UTF-8");
      }
      if (target.getBytes(StandardCharsets.UTF_8).length > MAX_LINK_TARGET) {
        throw unsupported(raw, "symlink target longer than " + MAX_LINK_TARGET + " bytes");
      }
      return target;
    }
  }

  // ---- tar ----

  private void readTar(Path archive, ArchiveFormat format, Walk walk) throws IOException {
    try (InputStream file = Files.newInputStream(archive);
        InputStream decompressed = decompress(new BufferedInputStream(file, IO_BUFFER), format, walk);
        TarArchiveInputStream tar = new TarArchiveInputStream(
            new Guarded(decompressed, walk), StandardCharsets.UTF_8.name())) {
      while (true) {
        TarArchiveEntry entry = nextTarEntry(tar, walk);
        if (entry == null) {
          break;
        }
        tarEntry(tar, new Guarded(tar, walk), entry, walk);
      }
      if (format != ArchiveFormat.TAR) {
        drain(decompressed, walk);
      }
    }
  }

  private InputStream decompress(InputStream in, ArchiveFormat format, Walk walk) throws IOException {
    try {
      return switch (format) {
        case TAR -> in;
        case TAR_GZ -> new GZIPInputStream(in, IO_BUFFER);
        case TAR_XZ -> new XZInputStream(in);
        case TAR_BZ2 -> new BZip2CompressorInputStream(in, true);
        case TAR_ZST -> new ZstdInputStream(in);
        case ZIP -> throw new IllegalArgumentException("zip is not a tar format");
      };
    } catch (IOException | RuntimeException e) {
      in.close();
      throw corrupt(walk, "not a valid " + format.name().toLowerCase().replace('_', '.')
          + " file", e);
    }
  }

  private static TarArchiveEntry nextTarEntry(TarArchiveInputStream tar, Walk walk)
      throws IOException {
    try {
      TarArchiveEntry entry = tar.getNextEntry();
      if (entry != null && !entry.isCheckSumOK()) {
        throw corrupt(walk, "header checksum wrong", null);
      }
      return entry;
    } catch (InvalidArchiveException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw corrupt(walk, e.getMessage(), e);
    }
  }

  /**
   * Reads the compressed stream to its end after the tar's end marker: only there do gzip, xz,
   * bzip2 and zstd check their checksums, so a corrupt archive is caught even when the damage
   * left the tar headers readable. The padding read counts against the byte limit.
   */
  private static void drain(InputStream decompressed, Walk walk) throws IOException {
    byte[] buffer = new byte[IO_BUFFER];
    try {
      for (int n; (n = decompressed.read(buffer)) >= 0; ) {
        walk.uploader.count(n, "(padding after the last entry)");
      }
    } catch (InvalidArchiveException e) {
      throw e;
    } catch (IOException | RuntimeException e) {
      throw corrupt(walk, "at the end of the compressed data: " + e.getMessage(), e);
    }
  }

  private void tarEntry(TarArchiveInputStream tar, InputStream data, TarArchiveEntry entry,
      Walk walk) throws IOException {
    String raw = entry.getName();
    byte flag = entry.getLinkFlag();
    if (entry.isGlobalPaxHeader() || flag == 'V') {
      return; // metadata for the whole archive / a volume label: no file
    }
    walk.countEntry(raw);
    EntryPath path = EntryPath.parse(raw, walk.archive);
    switch (flag) {
      case '5', 'D' -> walk.tree.addDirectory(path);
      case '2' -> walk.tree.addSymlink(path, walk.linkTarget(raw, entry.getLinkName()));
      case '1' -> walk.tree.addHardLink(path, EntryPath.parse(entry.getLinkName(), walk.archive));
      case '3' -> throw walk.unsupported(raw, "a character device");
      case '4' -> throw walk.unsupported(raw, "a block device");
      case '6' -> throw walk.unsupported(raw, "a fifo");
      case '0', 0, '7', 'S' -> {
        if (raw.endsWith("/")) {
          walk.tree.addDirectory(path); // pre-POSIX archives mark directories by the slash
          return;
        }
        if (!tar.canReadEntryData(entry)) {
          throw walk.unsupported(raw, "a sparse file in a format that cannot be read");
        }
        Digest digest = walk.uploader.putContent(data, raw);
        walk.tree.addFile(path, digest, (entry.getMode() & 0100) != 0);
      }
      default -> throw walk.unsupported(raw,
          "an entry of unknown type '" + (char) flag + "' (" + (flag & 0xff) + ")");
    }
  }

  // ---- zip ----

  private void readZip(Path archive, Walk walk) throws IOException {
    ZipFile zip;
    try {
      zip = ZipFile.builder().setPath(archive).setUseUnicodeExtraFields(true).get();
    } catch (IOException | RuntimeException e) {
      throw corrupt(walk, "not a valid zip file: " + e.getMessage(), e);
    }
    try (zip) {
      Enumeration<ZipArchiveEntry> entries = zip.getEntries();
      while (entries.hasMoreElements()) {
        zipEntry(zip, entries.nextElement(), walk);
      }
    }
  }

  private void zipEntry(ZipFile zip, ZipArchiveEntry entry, Walk walk) throws IOException {
    String raw = entry.getName();
    walk.countEntry(raw);
    EntryPath path = EntryPath.parse(raw, walk.archive);
    int mode = entry.getPlatform() == ZipArchiveEntry.PLATFORM_UNIX ? entry.getUnixMode() : 0;
    int type = mode & 0170000;
    if (entry.isDirectory() || type == 0040000) {
      walk.tree.addDirectory(path);
      return;
    }
    switch (type) {
      case 0, 0100000, 0120000 -> { }
      case 0020000 -> throw walk.unsupported(raw, "a character device");
      case 0060000 -> throw walk.unsupported(raw, "a block device");
      case 0010000 -> throw walk.unsupported(raw, "a fifo");
      case 0140000 -> throw walk.unsupported(raw, "a socket");
      default -> throw walk.unsupported(raw, "an entry of unknown type " + Integer.toOctalString(type));
    }
    if (!zip.canReadEntryData(entry)) {
      throw walk.unsupported(raw, "data that cannot be read (encrypted, or compression method "
          + entry.getMethod() + " unsupported)");
    }
    InputStream data;
    try {
      data = zip.getInputStream(entry);
    } catch (IOException | RuntimeException e) {
      throw corrupt(walk, e.getMessage(), e);
    }
    try (InputStream in = new Guarded(data, walk)) {
      if (type == 0120000) {
        byte[] target = walk.uploader.readSmall(in, MAX_LINK_TARGET, raw);
        walk.tree.addSymlink(path, walk.linkTarget(raw, strictUtf8(target, raw, walk)));
      } else {
        Digest digest = walk.uploader.putContent(in, raw);
        walk.tree.addFile(path, digest, (mode & 0100) != 0);
      }
    }
  }

  private static String strictUtf8(byte[] bytes, String raw, Walk walk)
      throws InvalidArchiveException {
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw EntryPath.unsafe(walk.archive, raw, "symlink target is not valid UTF-8");
    }
  }

  // ---- errors and clean-up ----

  private static InvalidArchiveException corrupt(Walk walk, String detail, Throwable cause) {
    return new InvalidArchiveException(Reason.CORRUPT, walk.archive
        + ": corrupt or truncated archive (" + walk.where() + "): " + detail, cause);
  }

  /**
   * Reading archive bytes: any failure of the decompressor or archive reader is the archive's
   * fault, and is reported as such with the entry being read.
   */
  private static final class Guarded extends FilterInputStream {
    private final Walk walk;

    Guarded(InputStream in, Walk walk) {
      super(in);
      this.walk = walk;
    }

    @Override
    public int read() throws IOException {
      try {
        return super.read();
      } catch (IOException | RuntimeException e) {
        throw corrupt(walk, String.valueOf(e.getMessage()), e);
      }
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      try {
        return super.read(b, off, len);
      } catch (IOException | RuntimeException e) {
        throw corrupt(walk, String.valueOf(e.getMessage()), e);
      }
    }

    @Override
    public long skip(long n) throws IOException {
      try {
        return super.skip(n);
      } catch (IOException | RuntimeException e) {
        throw corrupt(walk, String.valueOf(e.getMessage()), e);
      }
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
