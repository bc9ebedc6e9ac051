package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.cairn.core.digest.DigestFunction;
import dev.cairn.store.disk.DiskBlobStore;
import dev.cairn.store.disk.DiskStoreConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetAddress;
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
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mount service's rendezvous and request handling over a real socket, for requests that do
 * not mount (those are {@code MountServiceIT}'s): the file, the token, and what it declines.
 */
class MountServiceTest {

  private static final String DIGEST =
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855/0";

  @TempDir Path tmp;
  private Path store;
  private MountService service;
  private Map<String, String> file;

  @BeforeEach
  void start() throws IOException {
    store = tmp.resolve("store");
    DiskBlobStore local = DiskBlobStore.open(DiskStoreConfig.at(store));
    service = MountService.start(local, new MountService.Options(store, OptionalLong.empty(),
        DigestFunction.SHA256), Duration.ZERO);
    file = new LinkedHashMap<>();
    for (String line : Files.readAllLines(store.resolve(MountService.FILE))) {
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
        Files.getPosixFilePermissions(store.resolve(MountService.FILE)))).isEqualTo("rw-------");
    assertThat(file.keySet()).containsExactly("port", "token", "reply", "pid");
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
    assertThat(send(new MountRequest(wrong, tmp.toString(), Map.of(), List.of("mount", DIGEST,
        "mnt")).encode())).isEmpty();
    assertThat(send(new MountRequest("", tmp.toString(), Map.of(), List.of("mount", DIGEST,
        "mnt")).encode())).isEmpty();
    assertThat(send("cairn-mount-1\0".getBytes(StandardCharsets.US_ASCII))).isEmpty();
    // and the service still answers the next one
    assertThat(ask("--store", store.toString(), "mount", "nope", "mnt")).startsWith(
        file.get("reply"), "2");
  }

  @Test
  void aClientThatLeavesBeforeItsGoAhead_getsNothingRun() throws IOException {
    // As a launcher that timed out waiting for the first field does: it mounts by itself, so
    // the service must not run the request too.
    byte[] reply = send(new MountRequest(file.get("token"), tmp.toString(), Map.of(),
        List.of("--store", store.toString(), "mount", "nope", "mnt")).encode());
    assertThat(new String(reply, StandardCharsets.UTF_8)).isEqualTo(file.get("reply") + "\0");
  }

  @Test
  void aClientTricklingItsRequest_isDroppedAtTheDeadline() throws Exception {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(),
        Integer.parseInt(file.get("port")))) {
      s.setSoTimeout(20_000);
      long start = System.nanoTime();
      s.getOutputStream().write("cairn-mount-1\0".getBytes(StandardCharsets.US_ASCII));
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
  }

  @Test
  void afterItsLastMountAndRequest_itExits_removingItsFile() throws Exception {
    // linger 0 and nothing mounted: awaitExit returns at once
    assertThat(service.awaitExit()).isZero();

    assertThat(store.resolve(MountService.FILE)).doesNotExist();
    assertThatThrownBy(() -> new Socket(InetAddress.getLoopbackAddress(),
        Integer.parseInt(file.get("port")))).isInstanceOf(ConnectException.class);
  }

  /** Sends a request with the right token; the reply's fields. */
  private List<String> ask(String... args) throws IOException {
    Map<String, String> env = Map.of("HOME", tmp.resolve("home").toString());
    byte[] reply = send(withGo(new MountRequest(file.get("token"), tmp.toString(), env,
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
    both[request.length] = (byte) MountRequest.GO;
    return both;
  }

  private byte[] send(byte[] request) throws IOException {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(),
        Integer.parseInt(file.get("port")))) {
      s.setSoTimeout(10_000);
      s.getOutputStream().write(request);
      s.shutdownOutput(); // a bash client cannot; here it spares waiting for the read timeout
      InputStream in = s.getInputStream();
      return in.readAllBytes();
    }
  }
}
