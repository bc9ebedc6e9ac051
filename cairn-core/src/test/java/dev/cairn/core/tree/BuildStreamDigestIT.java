package dev.cairn.core.tree;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.fail;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import dev.cairn.core.blob.InMemoryBlobStore;
import dev.cairn.core.digest.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proves that Cairn's root digests are the ones an independent REAPI implementation computes for
 * the same directory: BuildStream 1.6, whose CAS code walks the directory, sorts entries, decides
 * the executable bit, reads symlinks and encodes {@code Directory} messages with its own generated
 * protos ({@code buildstream_root_digest.py} calls {@code CASCache.commit}; none of that logic is
 * ours). If these digests differ, a tree Cairn stores is a different tree for every other client.
 *
 * <p>What BuildStream records, checked in its source ({@code CASCache._commit_directory}) before
 * writing these assertions: names sorted by Python code-point order (= UTF-8 byte order), every
 * regular file with {@code is_executable} = the owner's execute bit only, symlinks never followed
 * and their {@code os.readlink} target kept verbatim (relative, absolute, dangling alike), empty
 * directories as entries, no {@code node_properties} (no mtime or mode). That matches REAPI v2 and
 * Cairn in every case below. The one corner where they part: a name that is not valid UTF-8 cannot
 * be a REAPI name at all; BuildStream fails on it (see {@link #nonUtf8Name_isRefusedLikeBuildStream}).
 *
 * <p>Needs {@code /usr/bin/python3} with the Debian package {@code buildstream}; without it every
 * test fails (never skips), saying what to install.
 */
class BuildStreamDigestIT {
  private static final Path PYTHON = Path.of("/usr/bin/python3");
  private static final String SCRIPT = "buildstream_root_digest.py";
  private static final String INSTALL_HINT =
      "install the Debian package `buildstream` (apt-get install -y buildstream; .ci/run does it)";

  @TempDir static Path shared;
  @TempDir Path tmp;

  private static Path script;

  @BeforeAll
  static void buildStreamIsInstalled() throws Exception {
    if (!Files.isExecutable(PYTHON)) {
      fail(PYTHON + " not found: this test compares Cairn with BuildStream's own code; "
          + INSTALL_HINT);
    }
    Outcome probe = run(List.of(PYTHON.toString(), "-c", "import buildstream"));
    if (probe.exitCode != 0) {
      fail("`" + PYTHON + " -c 'import buildstream'` failed (exit " + probe.exitCode + "): "
          + probe.stderr.strip() + "\n" + INSTALL_HINT);
    }
    // Non-ASCII names reach the JVM through sun.jnu.encoding; under a non-UTF-8 locale Java
    // would see other names than BuildStream and the comparison would prove nothing.
    assertThat(System.getProperty("sun.jnu.encoding"))
        .as("the JVM must decode file names as UTF-8 (run with LC_ALL=C.UTF-8, as failsafe does)")
        .isEqualTo("UTF-8");
    script = shared.resolve(SCRIPT);
    try (InputStream in = BuildStreamDigestIT.class.getResourceAsStream(SCRIPT)) {
      assertThat(in).as("test resource " + SCRIPT).isNotNull();
      Files.copy(in, script);
    }
  }

  @Test
  void everyKindOfEntryTogether_rootDigestEqualsBuildStreams() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    Path src = Files.createDirectories(root.resolve("src/main/java/dev"));
    file(src.resolve("Main.java"), "class Main {}\n", "rw-r--r--");
    file(root.resolve("build.sh"), "#!/bin/sh\necho hi\n", "rwxr-xr-x");
    file(root.resolve("empty"), "", "rw-r--r--");
    file(root.resolve("name with spaces.txt"), "spaces\n", "rw-r--r--");
    file(root.resolve("caf\u00e9 \u65e5\u672c\u8a9e.txt"), "non-ASCII\n", "rw-r--r--");
    Files.createDirectories(root.resolve("empty-dir/and-empty-child"));
    Files.createDirectories(root.resolve("dir with spaces/\u03a9"));
    file(root.resolve("dir with spaces/\u03a9/x"), "deep\n", "rwx------");
    bigFile(root.resolve("src/blob-3MiB.bin"), 3 * 1024 * 1024);
    symlink(root.resolve("rel"), "src/main/java/dev/Main.java");
    symlink(root.resolve("abs"), "/usr/bin/env");
    symlink(root.resolve("dangling"), "does/not/exist");
    symlink(root.resolve("src/up"), "../build.sh");
    file(root.resolve("\uD83D\uDE00.txt"), "emoji\n", "rw-r--r--");
    file(root.resolve("\uFFFD.txt"), "replacement char\n", "rw-r--r--");
    file(root.resolve("z.txt"), "z\n", "rw-r--r--");

    assertSameRootDigest(root);
  }

  @Test
  void namesOutsideTheBmp_sortInUtf8OrderNotUtf16Order() throws Exception {
    String emoji = "\uD83D\uDE00.txt";
    String replacement = "\uFFFD.txt";
    // The case is only meaningful because UTF-16 order puts the emoji (surrogate D83D) first.
    assertThat(emoji.compareTo(replacement)).isNegative();
    assertThat(Name.compareUtf8(emoji, replacement)).isPositive();

    Path root = Files.createDirectory(tmp.resolve("tree"));
    for (String name : List.of(emoji, replacement, "z.txt", "a.txt")) {
      file(root.resolve(name), name, "rw-r--r--");
      Files.createDirectory(root.resolve("dir-" + name));
      symlink(root.resolve("link-" + name), name);
    }

    Digest ours = assertSameRootDigest(root);

    List<String> files = new ArrayList<>();
    new TreeWalker(storeOf(root)).load(ours).getFilesList().forEach(f -> files.add(f.getName()));
    assertThat(files).containsExactly("a.txt", "z.txt", replacement, emoji);
  }

  @Test
  void awkwardButValidNames_matchBuildStream() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    for (String name : List.of(
        "name with spaces", " leading space", "trailing space ", "line\nbreak", "tab\there",
        "back\\slash", "-dash", ".hidden", "UPPER", "lower", "10", "9", "\u00e9 (NFC)",
        "e\u0301 (NFD)", "\u65e5\u672c\u8a9e", "\uD800\uDC00 first astral", "\uDBFF\uDFFD last")) {
      file(root.resolve(name), name, "rw-r--r--");
    }
    assertSameRootDigest(root);
  }

  @Test
  void executableBit_isTheOwnersExecuteBitOnly() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    for (String mode : List.of(
        "rw-r--r--", "rwxr-xr-x", "rwx------", "rwxr--r--", "rw-r-xr--", "rw-r--r-x", "--x------",
        "r--r--r--", "r-xr-xr-x")) {
      file(root.resolve("mode-" + mode), mode, mode);
    }
    Digest ours = assertSameRootDigest(root);

    List<String> executable = new ArrayList<>();
    new TreeWalker(storeOf(root)).load(ours).getFilesList().stream()
        .filter(f -> f.getIsExecutable()).forEach(f -> executable.add(f.getName()));
    assertThat(executable).containsExactlyInAnyOrder(
        "mode-rwxr-xr-x", "mode-rwx------", "mode-rwxr--r--", "mode---x------", "mode-r-xr-xr-x");
  }

  @Test
  void symlinks_areRecordedNotFollowed_targetsVerbatim() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    Files.createDirectory(root.resolve("dir"));
    file(root.resolve("dir/file"), "target\n", "rw-r--r--");
    symlink(root.resolve("relative"), "dir/file");
    symlink(root.resolve("relative-up"), "../outside/the/tree");
    symlink(root.resolve("absolute"), "/etc/hostname");
    symlink(root.resolve("dangling"), "no-such-file");
    symlink(root.resolve("to-dir"), "dir");
    // Targets a java.nio Path would normalize; both tools must keep readlink's bytes.
    symlink(root.resolve("trailing-slash"), "dir/");
    symlink(root.resolve("double-slash"), "dir//file");
    symlink(root.resolve("dot-segments"), "./dir/../dir/file");
    symlink(root.resolve("dir/self"), ".");
    symlink(root.resolve("non-ascii target"), "\u65e5\u672c/\uD83D\uDE00");
    assertSameRootDigest(root);
  }

  @Test
  void emptyDirectories_areEntries() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    Files.createDirectories(root.resolve("a/b/c"));
    Files.createDirectories(root.resolve("a/b2"));
    Files.createDirectories(root.resolve("x"));
    assertSameRootDigest(root);
  }

  @Test
  void emptyRoot_matchesBuildStream() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    Digest ours = assertSameRootDigest(root);
    // The empty Directory encodes to zero bytes.
    assertThat(ours.sizeBytes()).isZero();
  }

  @Test
  void largeAndEmptyFiles_matchBuildStream() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    bigFile(root.resolve("three-mebibytes"), 3 * 1024 * 1024);
    bigFile(root.resolve("one-byte-over-a-chunk"), (1 << 20) + 1);
    file(root.resolve("empty"), "", "rw-r--r--");
    file(root.resolve("empty-executable"), "", "rwxr-xr-x");
    assertSameRootDigest(root);
  }

  /**
   * A name that is not UTF-8 cannot appear in a REAPI Directory (protobuf strings are UTF-8).
   * BuildStream refuses it (its protobuf assignment raises), and so must Cairn: decoded with
   * U+FFFD in place of the bad byte, {@code \xff.txt} next to a real {@code \uFFFD.txt} would give
   * a Directory with a duplicate name and a tree that exports to other names.
   */
  @Test
  void nonUtf8Name_isRefusedLikeBuildStream() throws Exception {
    Path root = Files.createDirectory(tmp.resolve("tree"));
    file(root.resolve("\uFFFD.txt"), "real replacement character\n", "rw-r--r--");
    Outcome made = run(List.of(PYTHON.toString(), "-c",
        "import os, sys; open(os.path.join(os.fsencode(sys.argv[1]), b'\\xff.txt'), 'wb').close()",
        root.toString()));
    assertThat(made.exitCode).as(made.stderr).isZero();

    Outcome bst = run(List.of(PYTHON.toString(), script.toString(), root.toString()));
    assertThat(bst.exitCode).as("BuildStream on a non-UTF-8 name").isNotZero();
    assertThatThrownBy(() -> new MerkleTreeBuilder(new InMemoryBlobStore()).build(root))
        .isInstanceOf(InvalidTreeException.class);
  }

  // ---------------------------------------------------------------------------------------------

  /** Asserts Cairn's root digest for {@code root} equals BuildStream's, and returns it. */
  private Digest assertSameRootDigest(Path root) throws Exception {
    InMemoryBlobStore store = new InMemoryBlobStore();
    Digest ours = new MerkleTreeBuilder(store).build(root).root();
    Digest theirs = buildStreamDigest(root);
    if (!ours.equals(theirs)) {
      fail("root digest of " + root + " differs: Cairn " + ours + ", BuildStream " + theirs
          + "\nCairn's tree:\n" + listing(store, ours));
    }
    // Our own output must also pass our own canonical-form check at every level.
    new TreeWalker(store).walk(ours, new TreeWalker.Visitor() {});
    return ours;
  }

  private static InMemoryBlobStore storeOf(Path root) throws IOException {
    InMemoryBlobStore store = new InMemoryBlobStore();
    new MerkleTreeBuilder(store).build(root);
    return store;
  }

  private Digest buildStreamDigest(Path root) throws Exception {
    Outcome out = run(List.of(PYTHON.toString(), script.toString(), root.toString()));
    if (out.exitCode != 0) {
      fail("BuildStream failed on " + root + " (exit " + out.exitCode + "):\n" + out.stderr);
    }
    return Digest.parse(out.stdout.strip());
  }

  /**
   * Cairn's tree as text, for the failure message. Parses without validating, so that a tree our
   * own checks would reject can still be shown.
   */
  private static String listing(InMemoryBlobStore store, Digest root) {
    StringBuilder b = new StringBuilder();
    try {
      list(store, root, "", b);
    } catch (IOException e) {
      b.append("  (listing stopped: ").append(e).append(")\n");
    }
    return b.toString();
  }

  private static void list(InMemoryBlobStore store, Digest digest, String path, StringBuilder b)
      throws IOException {
    Directory dir = Directory.parseFrom(store.get(digest));
    b.append("  d ").append(path.isEmpty() ? "." : path).append(' ').append(digest).append('\n');
    String prefix = path.isEmpty() ? "" : path + "/";
    for (FileNode f : dir.getFilesList()) {
      b.append("  f ").append(prefix).append(f.getName()).append(f.getIsExecutable() ? " (x) " : " ")
          .append(Digest.fromProto(f.getDigest())).append('\n');
    }
    for (SymlinkNode s : dir.getSymlinksList()) {
      b.append("  l ").append(prefix).append(s.getName()).append(" -> ").append(s.getTarget())
          .append('\n');
    }
    for (DirectoryNode d : dir.getDirectoriesList()) {
      list(store, Digest.fromProto(d.getDigest()), prefix + d.getName(), b);
    }
  }

  private record Outcome(int exitCode, String stdout, String stderr) {}

  /**
   * Runs a child with an explicit argument list (no shell), a private HOME and a UTF-8 locale. Its
   * scratch files live in {@link #shared}, never in a tree under test.
   */
  private static Outcome run(List<String> command) throws Exception {
    Path home = Files.createDirectories(shared.resolve("child-home"));
    Path stderr = Files.createTempFile(shared, "stderr", ".txt");
    ProcessBuilder pb = new ProcessBuilder(command)
        .directory(shared.toFile())
        .redirectError(stderr.toFile())
        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
    var env = pb.environment();
    env.remove("PYTHONPATH");
    env.remove("PYTHONHOME");
    env.put("LC_ALL", "C.UTF-8");
    env.put("PYTHONDONTWRITEBYTECODE", "1");
    env.put("HOME", home.toString());
    env.put("XDG_CACHE_HOME", home.resolve("cache").toString());
    env.put("XDG_CONFIG_HOME", home.resolve("config").toString());
    env.put("XDG_DATA_HOME", home.resolve("data").toString());
    Process p = pb.start();
    String stdout = new String(p.getInputStream().readAllBytes(), UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out after 120 s: " + command);
    }
    return new Outcome(p.exitValue(), stdout, Files.readString(stderr, UTF_8));
  }

  private static void file(Path path, String content, String mode) throws IOException {
    Files.writeString(path, content, UTF_8);
    Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
  }

  private static void bigFile(Path path, int size) throws IOException {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    Files.write(path, bytes);
  }

  /**
   * Creates a symlink whose target is exactly {@code target}: {@code Path.of} would normalize
   * {@code dir/} or {@code a//b}, so the link is made by {@code ln} with an argument list.
   */
  private static void symlink(Path link, String target) throws Exception {
    Outcome out = run(List.of("/bin/ln", "-s", "--", target, link.toString()));
    assertThat(out.exitCode).as("ln -s %s %s: %s", target, link, out.stderr).isZero();
    assertThat(Files.isSymbolicLink(link)).isTrue();
  }
}
