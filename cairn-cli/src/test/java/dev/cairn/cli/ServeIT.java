package dev.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./cairn serve} as an operator runs it: a separate process that logs where it listens,
 * serves {@code cairn --remote} clients, and on SIGTERM finishes and exits 0 with its store intact.
 */
class ServeIT {
  @TempDir Path tmp;

  private static Path launcher() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null && !Files.isExecutable(dir.resolve("cairn"))) {
      dir = dir.getParent();
    }
    assertThat(dir).as("repository root with ./cairn").isNotNull();
    return dir.resolve("cairn");
  }

  private String run(String... args) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(
        java.util.stream.Stream.concat(java.util.stream.Stream.of(launcher().toString()), java.util.Arrays.stream(args)).toList())
        .redirectErrorStream(true);
    pb.environment().put("HOME", tmp.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(2, TimeUnit.MINUTES)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", args) + ": " + out).isZero();
    return out;
  }

  @Test
  void serve_answersRemoteClients_andStopsCleanlyOnSigterm() throws Exception {
    Path store = tmp.resolve("store");
    // Addresses and store from a config file, as an operator would deploy it.
    Path config = Files.writeString(tmp.resolve("cairn.properties"),
        "store = " + store + "\ngrpc-listen = 127.0.0.1:0\nhttp-listen = 127.0.0.1:0\nmax-size = 1G\n");
    ProcessBuilder pb = new ProcessBuilder(launcher().toString(), "serve", "--config", config.toString());
    pb.environment().put("HOME", tmp.toString());
    Process server = pb.start();
    server.getOutputStream().close();
    LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
    CompletableFuture<Void> drained = CompletableFuture.runAsync(() -> {
      try (BufferedReader r = new BufferedReader(new InputStreamReader(server.getErrorStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = r.readLine()) != null; ) {
          lines.add(line);
        }
      } catch (IOException e) {
        // process ended
      }
    });
    Pattern serving = Pattern.compile("serving gRPC on 127\\.0\\.0\\.1:(\\d+) and HTTP on 127\\.0\\.0\\.1:(\\d+)");
    int port = -1;
    int httpPort = -1;
    StringBuilder log = new StringBuilder();
    while (port < 0) {
      String line = lines.poll(2, TimeUnit.MINUTES);
      assertThat(line).as("server log so far:%n%s", log).isNotNull();
      log.append(line).append('\n');
      Matcher m = serving.matcher(line);
      if (m.find()) {
        port = Integer.parseInt(m.group(1));
        httpPort = Integer.parseInt(m.group(2));
        assertThat(line).contains(store.toString());
      }
    }
    String remote = "grpc://127.0.0.1:" + port + "/some/instance";
    Path file = Files.writeString(tmp.resolve("f.txt"), "served through cairn serve\n");
    String digest = run("--remote", remote, "put", file.toString()).strip();
    assertThat(run("cat", digest, "--remote", remote)).isEqualTo("served through cairn serve\n");

    var http = java.net.http.HttpClient.newHttpClient();
    var health = http.send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create("http://127.0.0.1:" + httpPort + "/cas/" + digest.substring(0, 64))).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(health.statusCode()).isEqualTo(200);
    assertThat(health.body()).isEqualTo("served through cairn serve\n");

    server.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its pipes)
    assertThat(server.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(server.exitValue()).isZero();
    drained.get(30, TimeUnit.SECONDS);
    List<String> rest = List.copyOf(lines);
    assertThat(String.join("\n", rest)).as("log:%n%s", log).contains("shutting down").contains("stopped");
    // The blob is in the store the server used, readable without the server.
    assertThat(run("--store", store.toString(), "cat", digest)).isEqualTo("served through cairn serve\n");
  }
}
