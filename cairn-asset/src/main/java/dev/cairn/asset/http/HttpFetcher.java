package dev.cairn.asset.http;

import dev.cairn.asset.FetchException;
import dev.cairn.asset.FetchException.Reason;
import dev.cairn.asset.OriginPolicy;
import dev.cairn.asset.Sri;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Downloads one resource over http/https from the first of several mirror URIs that has it,
 * streaming it to a temporary file while hashing it, so that no body is ever held on the heap.
 *
 * <p>Redirects are followed here (at most {@link #MAX_REDIRECTS}), not by the HTTP client, so
 * that the {@link OriginPolicy} judges every hop; request headers are sent only to the origin they
 * were given for, never to another host a redirect points to. The request's timeout bounds the
 * whole download across mirrors (headers and body); the size limit is checked against
 * Content-Length before reading and against the bytes read while reading. A {@code checksum.sri}
 * mismatch fails that mirror and leaves no file. Thread-safe; one instance serves all fetches.
 */
public final class HttpFetcher implements AutoCloseable {
  public static final int MAX_REDIRECTS = 10;
  private static final String USER_AGENT = "cairn-asset/1";

  private final OriginPolicy policy;
  private final long maxBytes;
  private final HttpClient client;
  private final ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(
      Thread.ofPlatform().daemon().name("cairn-fetch-timeout").factory());

  /** A finished download: the URI that answered, the file holding the body, and its digest. */
  public record Download(String uri, Path file, Digest digest) {}

  public HttpFetcher(OriginPolicy policy, long maxBytes) {
    this.policy = Objects.requireNonNull(policy, "policy");
    if (maxBytes <= 0) {
      throw new IllegalArgumentException("download size limit must be positive, got " + maxBytes);
    }
    this.maxBytes = maxBytes;
    this.client = HttpClient.newBuilder()
        .followRedirects(HttpClient.Redirect.NEVER)
        .version(HttpClient.Version.HTTP_1_1)
        .proxy(HttpClient.Builder.NO_PROXY)
        .connectTimeout(Duration.ofSeconds(30))
        .build();
  }

  /** Whether this fetcher handles the URI's scheme (http, https). */
  public static boolean handles(URI uri) {
    String s = uri.getScheme();
    return s != null && (s.equalsIgnoreCase("http") || s.equalsIgnoreCase("https"));
  }

  /**
   * Downloads from the first URI that succeeds into a new file in {@code tempDir}; the caller owns
   * (and deletes) the file.
   *
   * @param headers headers per URI, by the URI's index in {@code uris}
   * @throws FetchException if every URI failed: the reason of the most telling failure (anything
   *     but NOT_FOUND beats NOT_FOUND), the message listing each URI's failure
   */
  public Download download(List<URI> uris, List<Map<String, String>> headers, Optional<Sri> sri,
      DigestFunction function, Duration timeout, Path tempDir) throws IOException {
    Instant deadline = Instant.now().plus(timeout);
    List<FetchException> failures = new ArrayList<>();
    for (int i = 0; i < uris.size(); i++) {
      URI uri = uris.get(i);
      try {
        return downloadOne(uri, headers.get(i), sri, function, deadline, timeout, tempDir);
      } catch (FetchException e) {
        failures.add(e);
        if (e.reason() == Reason.DEADLINE_EXCEEDED) {
          break;
        }
      }
    }
    if (failures.size() == 1) {
      throw failures.getFirst();
    }
    FetchException telling = failures.stream().filter(f -> f.reason() != Reason.NOT_FOUND)
        .findFirst().orElse(failures.getLast());
    StringBuilder message = new StringBuilder("all " + uris.size() + " URIs failed:");
    for (FetchException f : failures) {
      message.append("\n  ").append(f.getMessage());
    }
    throw new FetchException(telling.reason(), telling.uri(), message.toString(), telling);
  }

  private Download downloadOne(URI original, Map<String, String> headers, Optional<Sri> sri,
      DigestFunction function, Instant deadline, Duration timeout, Path tempDir) throws IOException {
    String u = original.toString();
    if (!handles(original)) {
      throw new FetchException(Reason.NOT_FOUND, u, u + ": not an http(s) URI and not in the index");
    }
    URI current = original;
    for (int hop = 0; ; hop++) {
      policy.check(current);
      Duration left = Duration.between(Instant.now(), deadline);
      if (left.isNegative() || left.isZero()) {
        throw timedOut(u, timeout);
      }
      HttpRequest.Builder request = HttpRequest.newBuilder(current).GET().timeout(left)
          .header("User-Agent", USER_AGENT);
      if (sameOrigin(current, original)) {
        for (var h : headers.entrySet()) {
          try {
            request.header(h.getKey(), h.getValue());
          } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("http header '" + h.getKey() + "' cannot be sent: " + e.getMessage());
          }
        }
      }
      HttpResponse<InputStream> response;
      try {
        response = client.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
      } catch (HttpTimeoutException e) {
        throw timedOut(u, timeout);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("fetch of " + u + " interrupted");
      } catch (IOException e) {
        throw new FetchException(Reason.UNAVAILABLE, u, u + ": " + describe(e), e);
      }
      int status = response.statusCode();
      if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
        response.body().close();
        Optional<String> location = response.headers().firstValue("Location");
        if (location.isEmpty()) {
          throw new FetchException(Reason.UNAVAILABLE, u, u + ": HTTP " + status + " without a Location");
        }
        if (hop >= MAX_REDIRECTS) {
          throw new FetchException(Reason.UNAVAILABLE, u, u + ": more than " + MAX_REDIRECTS + " redirects");
        }
        URI next;
        try {
          next = current.resolve(location.get());
        } catch (IllegalArgumentException e) {
          throw new FetchException(Reason.UNAVAILABLE, u, u + ": invalid redirect Location '" + location.get() + "'");
        }
        if (!handles(next)) {
          throw new FetchException(Reason.PERMISSION_DENIED, u, u + ": redirect to a non-http URI " + next);
        }
        current = next;
        continue;
      }
      if (status / 100 != 2) {
        response.body().close();
        Reason reason = switch (status) {
          case 404, 410 -> Reason.NOT_FOUND;
          case 401, 403, 407 -> Reason.PERMISSION_DENIED;
          default -> Reason.UNAVAILABLE;
        };
        throw new FetchException(reason, u, u + (current.equals(original) ? "" : " (via " + current + ")")
            + ": HTTP " + status);
      }
      long declared = response.headers().firstValueAsLong("Content-Length").orElse(-1);
      if (declared > maxBytes) {
        response.body().close();
        throw tooLarge(u, declared);
      }
      return readBody(u, response.body(), sri, function, deadline, timeout, tempDir);
    }
  }

  private Download readBody(String u, InputStream body, Optional<Sri> sri, DigestFunction function,
      Instant deadline, Duration timeout, Path tempDir) throws IOException {
    Files.createDirectories(tempDir);
    Path file = Files.createTempFile(tempDir, "fetch-", ".part");
    boolean ok = false;
    Guard guard = new Guard(Thread.currentThread(), body);
    ScheduledFuture<?> alarm = watchdog.schedule(guard::fire,
        Math.max(1, Duration.between(Instant.now(), deadline).toMillis()), TimeUnit.MILLISECONDS);
    try (body; OutputStream out = Files.newOutputStream(file)) {
      Hasher hasher = function.newHasher();
      MessageDigest check = sri.map(Sri::newDigest).orElse(null);
      byte[] buffer = new byte[64 * 1024];
      long total = 0;
      for (int n; (n = body.read(buffer)) >= 0; ) {
        total += n;
        if (total > maxBytes) {
          throw tooLarge(u, total);
        }
        hasher.update(buffer, 0, n);
        if (check != null) {
          check.update(buffer, 0, n);
        }
        out.write(buffer, 0, n);
      }
      if (guard.finish()) {
        throw timedOut(u, timeout);
      }
      if (check != null) {
        byte[] actual = check.digest();
        if (!sri.get().matches(actual)) {
          throw new FetchException(Reason.ABORTED, u, u + ": checksum.sri mismatch: expected "
              + sri.get() + ", got " + sri.get().format(actual));
        }
      }
      ok = true;
      return new Download(u, file, hasher.finish());
    } catch (FetchException e) {
      throw e;
    } catch (IOException e) {
      if (guard.finish()) {
        throw timedOut(u, timeout);
      }
      throw new FetchException(Reason.UNAVAILABLE, u, u + ": download failed: " + describe(e), e);
    } finally {
      alarm.cancel(false);
      if (guard.finish()) {
        Thread.interrupted(); // the alarm's interrupt belongs to this download only
      }
      if (!ok) {
        Files.deleteIfExists(file);
      }
    }
  }

  /**
   * Ends a body read at the deadline: closes the stream and interrupts the reader, unless the
   * reader finished first. Both sides decide under one lock, so a finished reader is never
   * interrupted afterwards.
   */
  private static final class Guard {
    private final Thread reader;
    private final InputStream body;
    private boolean done;
    private boolean fired;

    Guard(Thread reader, InputStream body) {
      this.reader = reader;
      this.body = body;
    }

    synchronized void fire() {
      if (done) {
        return;
      }
      fired = true;
      try {
        body.close();
      } catch (IOException ignored) {
        // the reader sees the failure
      }
      reader.interrupt();
    }

    /** Marks the read finished; true if the alarm fired first. */
    synchronized boolean finish() {
      done = true;
      return fired;
    }
  }

  private static boolean sameOrigin(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && a.getHost().equalsIgnoreCase(b.getHost())
        && port(a) == port(b);
  }

  private static int port(URI u) {
    return u.getPort() >= 0 ? u.getPort() : u.getScheme().equalsIgnoreCase("https") ? 443 : 80;
  }

  private FetchException tooLarge(String u, long size) {
    return new FetchException(Reason.RESOURCE_EXHAUSTED, u, u + ": download of " + size
        + " bytes or more exceeds the limit of " + maxBytes + " bytes (asset-max-download-size)");
  }

  private static FetchException timedOut(String u, Duration timeout) {
    return new FetchException(Reason.DEADLINE_EXCEEDED, u, u + ": not fetched within the timeout of " + timeout);
  }

  private static String describe(IOException e) {
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  @Override
  public void close() {
    watchdog.shutdownNow();
    client.close();
  }
}
