package dev.cairn.asset.git;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import dev.cairn.core.tree.InvalidTreeException;
import dev.cairn.core.tree.MerkleCodec;
import dev.cairn.core.tree.Name;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectLoader;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;

/**
 * Stores a git tree in a CAS as a REAPI Merkle tree, reading git objects directly (no checkout):
 * blobs become files (executable when the mode has the owner's execute bit, as git checks out),
 * mode 120000 entries become symlinks with the blob as target, subtrees become directories.
 * Submodules (gitlinks) are left out, as {@code git archive} leaves them out. Names that git would
 * refuse to check out ({@code .git}, {@code ..}) or that are not UTF-8 are refused. Identical
 * subtrees and blobs are converted once. Not thread-safe; one instance per import.
 */
final class GitTreeImporter {
  private static final int SMALL_BLOB = 256 * 1024;
  private static final long BATCH_BYTES = 2L << 20;
  private static final int MAX_LINK_TARGET = 4096;
  private static final Comparator<String> ORDER = Name.UTF8_ORDER;

  private final BlobStore store;
  private final DigestFunction function;
  private final ObjectReader reader;
  private final String where;
  private final Map<ObjectId, Digest> trees = new HashMap<>();
  private final Map<ObjectId, Digest> blobs = new HashMap<>();
  private final Set<Digest> sent = new HashSet<>();
  private Map<Digest, byte[]> batch = new LinkedHashMap<>();
  private long batchBytes;

  GitTreeImporter(BlobStore store, DigestFunction function, ObjectReader reader, String where) {
    this.store = store;
    this.function = function;
    this.reader = reader;
    this.where = where;
  }

  /** The root digest of {@code tree}; every blob it references is in the store on return. */
  Digest importTree(ObjectId tree) throws IOException {
    Digest root = convert(tree, "");
    flush();
    return root;
  }

  private record Named<T>(String name, T node) {}

  private Digest convert(ObjectId tree, String path) throws IOException {
    Digest known = trees.get(tree);
    if (known != null) {
      return known;
    }
    List<Named<FileNode>> files = new ArrayList<>();
    List<Named<DirectoryNode>> dirs = new ArrayList<>();
    List<Named<SymlinkNode>> links = new ArrayList<>();
    Set<String> names = new HashSet<>();
    CanonicalTreeParser parser = new CanonicalTreeParser(null, reader, tree);
    for (; !parser.eof(); parser.next()) {
      String name = name(parser, path);
      String child = path.isEmpty() ? name : path + "/" + name;
      if (!names.add(name)) {
        throw new InvalidTreeException(where + ": tree at '" + path + "' names '" + child
            + "' twice");
      }
      int mode = parser.getEntryRawMode();
      ObjectId id = parser.getEntryObjectId();
      switch (mode & FileMode.TYPE_MASK) {
        case FileMode.TYPE_FILE -> files.add(new Named<>(name, FileNode.newBuilder().setName(name)
            .setDigest(blob(id).toProto()).setIsExecutable((mode & 0100) != 0).build()));
        case FileMode.TYPE_SYMLINK -> links.add(new Named<>(name, SymlinkNode.newBuilder()
            .setName(name).setTarget(linkTarget(id, child)).build()));
        case FileMode.TYPE_TREE -> dirs.add(new Named<>(name, DirectoryNode.newBuilder()
            .setName(name).setDigest(convert(id, child).toProto()).build()));
        case FileMode.TYPE_GITLINK -> { } // a submodule: left out, as git archive does
        default -> throw new InvalidTreeException(where + ": '" + child + "' has mode "
            + Integer.toOctalString(mode) + ", which is not a file, symlink, tree or submodule");
      }
    }
    Directory.Builder b = Directory.newBuilder();
    files.stream().sorted(Comparator.comparing(Named::name, ORDER)).forEach(n -> b.addFiles(n.node()));
    dirs.stream().sorted(Comparator.comparing(Named::name, ORDER)).forEach(n -> b.addDirectories(n.node()));
    links.stream().sorted(Comparator.comparing(Named::name, ORDER)).forEach(n -> b.addSymlinks(n.node()));
    byte[] encoded = MerkleCodec.encode(b.build());
    Digest digest = function.digestOf(encoded);
    addSmall(digest, encoded);
    trees.put(tree.copy(), digest);
    return digest;
  }

  private String name(CanonicalTreeParser parser, String path) throws InvalidTreeException {
    byte[] raw = new byte[parser.getNameLength()];
    parser.getName(raw, 0);
    String name;
    try {
      name = strictUtf8(raw);
    } catch (CharacterCodingException e) {
      throw new InvalidTreeException(where + ": a name in '" + path + "' is not valid UTF-8");
    }
    String problem = Name.problem(name);
    if (problem != null) {
      throw new InvalidTreeException(where + ": in '" + path + "': " + problem);
    }
    if (name.toLowerCase(Locale.ROOT).equals(".git")) {
      throw new InvalidTreeException(where + ": '" + (path.isEmpty() ? "" : path + "/") + name
          + "': a tree entry named .git, which git refuses to check out");
    }
    return name;
  }

  private Digest blob(ObjectId id) throws IOException {
    Digest known = blobs.get(id);
    if (known != null) {
      return known;
    }
    ObjectLoader loader = reader.open(id, Constants.OBJ_BLOB);
    Digest digest;
    if (loader.getSize() <= SMALL_BLOB) {
      byte[] bytes = loader.getCachedBytes();
      digest = function.digestOf(bytes);
      addSmall(digest, bytes);
    } else {
      digest = hash(loader);
      if (sent.add(digest) && !store.contains(digest)) {
        try (InputStream in = loader.openStream()) {
          store.put(digest, in);
        }
      }
    }
    blobs.put(id.copy(), digest);
    return digest;
  }

  private Digest hash(ObjectLoader loader) throws IOException {
    Hasher hasher = function.newHasher();
    byte[] buffer = new byte[256 * 1024];
    try (InputStream in = loader.openStream()) {
      for (int n; (n = in.read(buffer)) >= 0; ) {
        hasher.update(buffer, 0, n);
      }
    }
    return hasher.finish();
  }

  private String linkTarget(ObjectId id, String path) throws IOException {
    ObjectLoader loader = reader.open(id, Constants.OBJ_BLOB);
    if (loader.getSize() > MAX_LINK_TARGET) {
      throw new InvalidTreeException(where + ": symlink '" + path + "' has a target longer than "
          + MAX_LINK_TARGET + " bytes");
    }
    String target;
    try {
      target = strictUtf8(loader.getCachedBytes());
    } catch (CharacterCodingException e) {
      throw new InvalidTreeException(where + ": symlink '" + path + "' target is not valid UTF-8");
    }
    if (target.isEmpty() || target.indexOf('\0') >= 0) {
      throw new InvalidTreeException(where + ": symlink '" + path + "' has an empty target or NUL");
    }
    return target;
  }

  private static String strictUtf8(byte[] bytes) throws CharacterCodingException {
    return StandardCharsets.UTF_8.newDecoder()
        .onMalformedInput(CodingErrorAction.REPORT)
        .onUnmappableCharacter(CodingErrorAction.REPORT)
        .decode(ByteBuffer.wrap(bytes)).toString();
  }

  private void addSmall(Digest digest, byte[] bytes) throws IOException {
    if (digest.sizeBytes() == 0 || !sent.add(digest)) {
      return;
    }
    batch.put(digest, bytes);
    batchBytes += bytes.length;
    if (batchBytes >= BATCH_BYTES || batch.size() >= 1000) {
      flush();
    }
  }

  private void flush() throws IOException {
    if (batch.isEmpty()) {
      return;
    }
    Map<Digest, byte[]> full = batch;
    batch = new LinkedHashMap<>();
    batchBytes = 0;
    full.keySet().retainAll(store.findMissing(full.keySet()));
    store.putAll(full);
  }
}
