package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The store service's rendezvous and request handling over a real socket, for requests that do
 * not mount (those are {@code StoreServiceIT}'s): the file, the token, and what it declines.
 */
class StoreServiceTest {

  private static final String DIGEST =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/0";

  @TempDir Path tmp;
  private Path store;
  private StoreService service;
  private DiskBlobStore local;
  private Map<String, String> file;

  @BeforeEach
  void start() throws IOException {
    store = tmp.resolve("store");
    local = DiskBlobStore.open(DiskStoreConfig.at(store));
    service = StoreService.start(local, new StoreService.Options(store, OptionalLong.empty(),
        DigestFunction.SHA256), Duration.ZERO);
    file = new LinkedHashMap<>();
    for (String line : Files.readAllLines(store.resolve(StoreService.FILE))) {
      file.put(line.substring(0, line.indexOf('=')), line.substring(line.indexOf('=') + 1));
    }
    Files.createDirectories(tmp.resolve("mnt"));
  }

  @AfterEach
  void stop() throws InterruptedException {
    service.shutdown();
    service.awaitExit();
  }

  @Test
  void rendezvousFile_isTheOwnersOnly_andNamesPortTokenReplyAndPid() throws IOException {
    assertThat(PosixFilePermissions.toString(
        Files.getPosixFilePermissions(store.resolve(StoreService.FILE)))).isEqualTo("rw-------");
    assertThat(file.keySet()).containsExactly("port", "token", "reply", "pid", "jar");
    assertThat(file.get("token")).matches("[0-9a-f]{64}");
    assertThat(file.get("reply")).matches("[0-9a-f]{64}").isNotEqualTo(file.get("token"));
    assertThat(file.get("pid")).isEqualTo(Long.toString(ProcessHandle.current().pid()));
    try (Stream<Path> leftovers = Files.list(store)) {
      assertThat(leftovers.map(p -> p.getFileName().toString())).noneMatch(n -> n.endsWith(".tmp"));
    }
  }

  @Test
  void aWrongOrMissingToken_getsTheConnectionClosed_withNoAnswer() throws IOException {
    String wrong = "0".repeat(64);
    assertThat(send(new ServiceRequest(wrong, tmp.toString(), Map.of(), List.of("mount", DIGEST,
        "mnt")).encode())).isEmpty();
    assertThat(send(new ServiceRequest("", tmp.toString(), Map.of(), List.of("mount", DIGEST,
        "mnt")).encode())).isEmpty();
    assertThat(send("cairn-service-1\0".getBytes(StandardCharsets.US_ASCII))).isEmpty();
    // and the service still answers the next one
    assertThat(ask("--store", store.toString(), "mount", "nope", "mnt")).startsWith(
        file.get("reply"), "2");
  }

  @Test
  void aClientThatLeavesBeforeItsGoAhead_getsNothingRun() throws IOException {
    // As a launcher that timed out waiting for the first field does: it mounts by itself, so
    // the service must not run the request too.
    byte[] reply = send(new ServiceRequest(file.get("token"), tmp.toString(), Map.of(),
        List.of("--store", store.toString(), "mount", "nope", "mnt")).encode());
    assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo(file.get("reply") + "\0");
  }

  @Test
  void aClientTricklingItsRequest_isDroppedAtTheDeadline() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(),
        Integer.parseInt(file.get("port")))) {
      s.setSoTimeout(20_000);
      long start = System.nanoTime();
      s.getOutputStream().write("cairn-service-1\0".getBytes(StandardCharsets.US_ASCII));
      Thread trickle = Thread.ofVirtual().start(() -> {
        try {
          for (int i = 0; i < 15; i++) { // a byte a second: each read is quick, the whole is not
            Thread.sleep(1000);
            s.getOutputStream().write('a');
          }
        } catch (IOException | InterruptedException e) {
          // the service closed the connection
        }
      });
      assertThat(s.getInputStream().read()).isEqualTo(-1);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
      trickle.interrupt();
    }
  }

  @Test
  void usageErrors_areAnsweredWithTheCommandsOwnMessageAndStatus() throws IOException {
    List<String> reply = ask("--store", store.toString(), "mount", "nope", "mnt");
    CliRunner.Result direct = new CliRunner(store).runRaw("--store", store.toString(), "mount",
        "nope", tmp.resolve("mnt").toString());

    assertThat(reply).containsExactly(file.get("reply"), "2", "", direct.stderr());
    assertThat(direct.exitCode()).isEqualTo(2);
  }

  @Test
  void relativePaths_resolveAgainstTheClientsDirectory() throws IOException {
    // "mnt" and "store" are in the client's directory (tmp), not in this process's
    List<String> checked = ask("--store", "store", "mount", "--capture-on-unmount", DIGEST, "mnt");
    assertThat(checked.get(3)).contains("--capture-on-unmount needs --writable");

    String absent = "1".repeat(64) + "/10";
    List<String> missing = ask("--store", "store", "mount", absent, "mnt");
    assertThat(missing).containsExactly(file.get("reply"), "1", "", "cairn: tree " + absent
        + " is not in the store at " + store + " (import it, or give --remote URL)\n");
  }

  @Test
  void whatItCannotHost_isAnsweredFallback() throws IOException {
    Path other = Files.createDirectories(tmp.resolve("other"));
    List<String> fallback = List.of(file.get("reply"), "fallback", "", "");

    assertThat(ask("--store", other.toString(), "mount", DIGEST, "mnt")).isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "--digest-function", "blake3", "mount", DIGEST,
        "mnt")).isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "--max-size", "1G", "mount", DIGEST, "mnt"))
        .isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "mount", "--foreground", DIGEST, "mnt"))
        .isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "mount", "--help")).isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "stat")).isEqualTo(fallback);
    assertThat(ask("--store", other.toString(), "import", "tree")).isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "--max-size", "1G", "export", DIGEST, "x"))
        .isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "put", "x")).isEqualTo(fallback);
    assertThat(ask("--store", store.toString(), "service")).isEqualTo(fallback);
  }

  @Test
  void importAndExport_runOnTheServicesStore_withTheClientsRelativePaths() throws IOException {
    Path tree = Files.createDirectories(tmp.resolve("tree/sub"));
    Files.writeString(tree.resolve("a.txt"), "alpha\n");
    Files.writeString(tmp.resolve("tree/b.txt"), "beta\n");
    String expected = new CliRunner(tmp.resolve("other-store")).ok("import",
        tmp.resolve("tree").toString()).line();

    // "tree" and "back" are in the client's directory (tmp), not in this process's
    List<String> imported = ask("--store", "store", "import", "tree");
    List<String> exported = ask("--store", "store", "export", expected, "back");

    assertThat(imported).containsExactly(file.get("reply"), "0", expected + "\n", "");
    String alpha = DigestFunction.SHA256.digestOf("alpha\n".getBytes(StandardCharsets.UTF_8))
        .hash();
    assertThat(local.findIndexedByHash(alpha)).as("stored through the service's own store")
        .isPresent();
    assertThat(exported).containsExactly(file.get("reply"), "0", "", "");
    assertThat(tmp.resolve("back/sub/a.txt")).hasContent("alpha");
    assertThat(tmp.resolve("back/b.txt")).hasContent("beta");
    assertThat(ask("--store", "store", "import", "--json", "nope").subList(1, 3))
        .as("the command's own error").containsExactly("1", "");
  }

  @Test
  void aClientOnATerminal_getsTheProgressBar_whileTheCommandRuns_thenTheReply()
      throws IOException {
    Path tree = Files.createDirectories(tmp.resolve("tree"));
    for (int i = 0; i < 20; i++) {
      Files.writeString(tree.resolve("f" + i), "file " + i);
    }
    Map<String, String> env = clientEnv();
    List<String> quiet = ask(env, "--store", "store", "import", "tree");
    env.put(StoreService.TERMINAL_ENV, "100");
    List<String> watched = ask(env, "--store", "store", "import", "tree");

    assertThat(quiet).hasSize(4).noneMatch(f -> f.startsWith(ServiceRequest.PROGRESS));
    assertThat(watched.getFirst()).isEqualTo(file.get("reply"));
    List<String> progress = watched.subList(1, watched.size() - 3);
    assertThat(progress).isNotEmpty().allMatch(f -> f.startsWith(ServiceRequest.PROGRESS));
    assertThat(String.join("", progress)).contains("20/20 files");
    assertThat(watched.subList(watched.size() - 3, watched.size()))
        .containsExactly("0", quiet.get(2), "");
  }

  @Test
  void aClientThatLeavesWhileItsCommandRuns_getsTheCommandInterrupted() throws Exception {
    // A remote that accepts connections and never answers: the export waits on it for ever,
    // unless the service notices that its client left (Ctrl-C on ./cairn) and interrupts it.
    try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Socket client = new Socket(InetAddress.getLoopbackAddress(),
            Integer.parseInt(file.get("port")))) {
      CompletableFuture<Socket> remoteCalled = CompletableFuture.supplyAsync(() -> {
        try {
          return silent.accept();
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      client.getOutputStream().write(withGo(new ServiceRequest(file.get("token"), tmp.toString(),
          clientEnv(), List.of("--store", store.toString(),
              "--remote", "grpc://127.0.0.1:" + silent.getLocalPort(), "export",
              "1".repeat(64) + "/10", "out")).encode()));
      client.setSoTimeout(10_000);
      byte[] proof = client.getInputStream().readNBytes(file.get("reply").length() + 1);
      assertThat(new String(proof, StandardCharsets.US_ASCII)).isEqualTo(file.get("reply") + "\0");
      // the export runs: it connected to the remote, and waits for an answer that never comes
      Socket export = remoteCalled.get(20, TimeUnit.SECONDS);
      Thread.sleep(300);
      client.close();

      // linger 0: awaitExit returns once no request is left, i.e. once the export ended
      CompletableFuture<Integer> exited = CompletableFuture.supplyAsync(() -> {
        try {
          return service.awaitExit();
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      });
      assertThat(exited.get(30, TimeUnit.SECONDS)).isZero();
      export.close();
    }
  }

  @Test
  void aClientThatIsNotTheProcessHoldingTheConnection_isAnsweredFallback() throws Exception {
    Path tree = Files.createDirectories(tmp.resolve("tree"));
    Files.writeString(tree.resolve("a"), "a");
    Map<String, String> env = clientEnv();
    List<String> fallback = List.of(file.get("reply"), "fallback", "", "");

    env.remove(StoreService.CLIENT_PID_ENV);
    assertThat(ask(env, "--store", "store", "import", "tree")).isEqualTo(fallback);
    Process other = new ProcessBuilder("sleep", "30").start(); // alive, ours, but not the client
    try {
      env.put(StoreService.CLIENT_PID_ENV, Long.toString(other.pid()));
      assertThat(ask(env, "--store", "store", "import", "tree")).isEqualTo(fallback);
    } finally {
      other.destroy();
    }
    env.put(StoreService.CLIENT_PID_ENV, "1; rm -rf /");
    assertThat(ask(env, "--store", "store", "import", "tree")).isEqualTo(fallback);
    assertThat(store.resolve("digests")).as("nothing was imported").doesNotExist();
    // the real client is served
    env.put(StoreService.CLIENT_PID_ENV, Long.toString(ProcessHandle.current().pid()));
    assertThat(ask(env, "--store", "store", "import", "tree").get(1)).isEqualTo("0");
  }

  @Test
  void anExportForAClientWithAnotherUmask_isAnsweredFallback() throws IOException {
    Map<String, String> env = clientEnv();
    int mine = Integer.parseInt(umask(), 8);
    env.put(StoreService.UMASK_ENV, Integer.toOctalString(mine ^ 0077));
    assertThat(ask(env, "--store", "store", "export", DIGEST, "out"))
        .containsExactly(file.get("reply"), "fallback", "", "");
    env.remove(StoreService.UMASK_ENV);
    assertThat(ask(env, "--store", "store", "export", DIGEST, "out"))
        .containsExactly(file.get("reply"), "fallback", "", "");
    assertThat(tmp.resolve("out")).doesNotExist();
    assertThat(ask("--store", "store", "export", DIGEST, "out").get(1)).isEqualTo("0");
    assertThat(tmp.resolve("out")).isEmptyDirectory();
  }

  @Test
  void aTerminalWidth_isTakenOnlyWhenPlausible() {
    assertThat(StoreService.terminalColumns("120")).isEqualTo(120);
    assertThat(StoreService.terminalColumns(null)).isZero();
    assertThat(StoreService.terminalColumns("5")).isZero();
    assertThat(StoreService.terminalColumns("99999")).isZero();
    assertThat(StoreService.terminalColumns("-80")).isZero();
    assertThat(StoreService.terminalColumns("80x")).isZero();
  }

  @Test
  void afterItsLastMountAndRequest_itExits_removingItsFile() throws Exception {
    // linger 0 and nothing mounted: awaitExit returns at once
    assertThat(service.awaitExit()).isZero();

    assertThat(store.resolve(StoreService.FILE)).doesNotExist();
    int port = Integer.parseInt(file.get("port"));
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      // Connecting to a port nobody listens on can, rarely, connect the socket to itself (the
      // kernel picked that very port as its source; seen once in a verify run): no listener
      // either. Anything else would be a listener still there.
      assertThat(s.getLocalPort()).as("something still listens on the service's port")
          .isEqualTo(port);
    } catch (ConnectException expected) {
      // nobody listens: the socket was closed
    }
  }

  @Test
  void anIdleServiceWhoseFileWasReplaced_exitsWithoutWaitingOutItsLinger() throws Exception {
    Path other = tmp.resolve("other-store");
    StoreService lingering = StoreService.start(DiskBlobStore.open(DiskStoreConfig.at(other)),
        new StoreService.Options(other, OptionalLong.empty(), DigestFunction.SHA256),
        Duration.ofMinutes(10));
    CompletableFuture<Integer> exited = CompletableFuture.supplyAsync(() -> {
      try {
        return lingering.awaitExit();
      } catch (InterruptedException e) {
        throw new IllegalStateException(e);
      }
    });
    Thread.sleep(500);
    assertThat(exited).as("idle, its file its own: it lingers").isNotDone();

    // as a newer service (e.g. a mount's daemon) does: its own file in the same place
    Files.writeString(other.resolve(StoreService.FILE), "port=1\ntoken=" + "ab".repeat(32)
        + "\n");

    assertThat(exited.get(10, TimeUnit.SECONDS)).isZero();
    assertThat(other.resolve(StoreService.FILE)).as("the newer service's file stays").exists();
  }

  /** Sends a request with the right token; the reply's fields. */
  private List<String> ask(String... args) throws IOException {
    return ask(clientEnv(), args);
  }

  /** What the launcher sends: HOME, this process's id (it holds the socket) and its umask. */
  private Map<String, String> clientEnv() throws IOException {
    return new LinkedHashMap<>(Map.of("HOME", tmp.resolve("home").toString(),
        StoreService.CLIENT_PID_ENV, Long.toString(ProcessHandle.current().pid()),
        StoreService.UMASK_ENV, umask()));
  }

  static String umask() throws IOException {
    return Files.readAllLines(Path.of("/proc/self/status")).stream()
        .filter(l -> l.startsWith("Umask:")).findFirst().orElseThrow().substring(6).trim();
  }

  /** Sends a request with the right token and this environment; the reply's fields. */
  private List<String> ask(Map<String, String> env, String... args) throws IOException {
    byte[] reply = sendWithGo(withGo(new ServiceRequest(file.get("token"), tmp.toString(), env,
        List.of(args)).encode()));
    List<String> fields = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < reply.length; i++) {
      if (reply[i] == 0) {
        fields.add(new String(reply, start, i - start, StandardCharsets.UTF_8));
        start = i + 1;
      }
    }
    assertThat(start).as("reply ends with a NUL").isEqualTo(reply.length);
    return fields;
  }

  /** The request and the client's go-ahead, sent at once (the service reads them in order). */
  static byte[] withGo(byte[] request) {
    byte[] both = java.util.Arrays.copyOf(request, request.length + 1);
    both[request.length] = (byte) ServiceRequest.GO;
    return both;
  }

  /** Sends a request that gets no go-ahead, then half-closes: the reply's bytes. */
  private byte[] send(byte[] request) throws IOException {
    return send(request, true);
  }

  /**
   * Sends a request and its go-ahead, keeping the connection open as a client waiting for the
   * reply must (an end of input then means the client left, and the command is interrupted).
   */
  private byte[] sendWithGo(byte[] requestAndGo) throws IOException {
    return send(requestAndGo, false);
  }

  private byte[] send(byte[] request, boolean halfClose) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(),
        Integer.parseInt(file.get("port")))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request);
      if (halfClose) {
        s.shutdownOutput(); // a bash client cannot; here it spares waiting for the read timeout
      }
      InputStream in = s.getInputStream();
      return in.readAllBytes();
    }
  }
}
