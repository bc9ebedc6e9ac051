package dev.cairn.asset.http;

import dev.cairn.asset.FetchException;
import dev.cairn.asset.FetchException.Reason;
import dev.cairn.asset.OriginPolicy;
import dev.cairn.asset.Sri;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.core.digest.Hasher;
import java.io.IOException;
import java.io.InterruptedIOException;
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
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Downloads one resource over http/https from the first of several mirror URIs that has it,
 * streaming it to a temporary file while hashing it, so that no body is ever held on the heap.
 *
 * <p>Redirects are followed here (at most {@link #MAX_REDIRECTS}), not by the HTTP client, so
 * that the {@link OriginPolicy} judges every hop; request headers are sent only to the origin they
 * were given for, never to another host a redirect points to. The request's timeout bounds the
 * whole download across mirrors (headers and body: the exchange is cancelled when it passes); the
 * size limit is checked against Content-Length before reading and against the bytes received
 * while receiving. Bodies go from the client's buffers to the file and the hashers without an
 * extra copy (twice as fast as reading the client's InputStream here). A {@code checksum.sri}
 * mismatch fails that mirror and leaves no file. Thread-safe; one instance serves all fetches.
 */
public final class HttpFetcher implements AutoCloseable {
  public static final int MAX_REDIRECTS = 10;
  private static final String USER_AGENT = "cairn-asset/1";

  private final OriginPolicy policy;
  private final long maxBytes;
  private final HttpClient client;

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
    Files.createDirectories(tempDir);
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
      BodyFile sink = new BodyFile(u, Files.createTempFile(tempDir, "fetch-", ".part"), function, sri);
      boolean ok = false;
      try {
        HttpResponse<Path> response = await(u, timeout, left, sink,
            client.sendAsync(request.build(), info -> info.statusCode() / 100 == 2
                ? sink.start(info.headers().firstValueAsLong("Content-Length").orElse(-1))
                : new Discarding()));
        int status = response.statusCode();
        if (status == 301 || status == 302 || status == 303 || status == 307 || status == 308) {
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
          Reason reason = switch (status) {
            case 404, 410 -> Reason.NOT_FOUND;
            case 401, 403, 407 -> Reason.PERMISSION_DENIED;
            default -> Reason.UNAVAILABLE;
          };
          throw new FetchException(reason, u, u + (current.equals(original) ? "" : " (via " + current + ")")
              + ": HTTP " + status);
        }
        Download download = sink.finish();
        ok = true;
        return download;
      } finally {
        if (!ok) {
          sink.abort();
          Files.deleteIfExists(sink.file);
        }
      }
    }
  }

  /** Waits for the response and its whole body, at most {@code left}; cancels the exchange on timeout. */
  private static HttpResponse<Path> await(String u, Duration timeout, Duration left, BodyFile sink,
      CompletableFuture<HttpResponse<Path>> response) throws IOException {
    try {
      return response.get(Math.max(1, left.toMillis()), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      sink.abort();
      response.cancel(true);
      throw timedOut(u, timeout);
    } catch (InterruptedException e) {
      sink.abort();
      response.cancel(true);
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("fetch of " + u + " interrupted");
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      while (cause instanceof java.util.concurrent.CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      if (cause instanceof FetchException f) {
        throw f;
      }
      if (cause instanceof HttpTimeoutException) {
        throw timedOut(u, timeout);
      }
      String why = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
      throw new FetchException(Reason.UNAVAILABLE, u, u + ": " + why, cause);
    }
  }

  /**
   * Receives a 2xx body straight into a file, hashing each buffer for the CAS digest and the
   * checksum.sri check as it passes, and refusing it as soon as it exceeds the size limit (the
   * declared Content-Length is checked before the first byte). Buffers are written from the HTTP
   * client's threads; {@link #abort} (timeout) and delivery are serialized on this object.
   */
  private static final int WINDOW = 4;

  private final class BodyFile implements HttpResponse.BodySubscriber<Path> {
    final Path file;
    private final String uri;
    private final Hasher hasher;
    private final Optional<Sri> sri;
    private final MessageDigest check;
    private final CompletableFuture<Path> body = new CompletableFuture<>();
    private FileChannel channel;
    private Flow.Subscription subscription;
    private long total;
    private long declared = -1;
    private boolean closed;

    BodyFile(String uri, Path file, DigestFunction function, Optional<Sri> sri) {
      this.uri = uri;
      this.file = file;
      this.hasher = function.newHasher();
      this.sri = sri;
      this.check = sri.map(Sri::newDigest).orElse(null);
    }

    synchronized BodyFile start(long contentLength) {
      declared = contentLength;
      return this;
    }

    @Override
    public CompletionStage<Path> getBody() {
      return body;
    }

    @Override
    public synchronized void onSubscribe(Flow.Subscription s) {
      subscription = s;
      if (closed) {
        s.cancel();
        return;
      }
      if (declared > maxBytes) {
        fail(tooLarge(uri, declared));
        return;
      }
      try {
        channel = FileChannel.open(file, StandardOpenOption.WRITE);
      } catch (IOException e) {
        fail(e);
        return;
      }
      // A window of buffer lists in flight, so the client keeps reading while one is written;
      // each onNext asks for one more, so at most WINDOW lists of the client's buffers (16 KiB
      // by default, 256 KiB as cairn sets it) wait here per download.
      s.request(WINDOW);
    }

    @Override
    public synchronized void onNext(List<ByteBuffer> buffers) {
      if (closed) {
        return;
      }
      try {
        for (ByteBuffer b : buffers) {
          total += b.remaining();
          if (total > maxBytes) {
            fail(tooLarge(uri, total));
            return;
          }
          hasher.update(b.duplicate());
          if (check != null) {
            check.update(b.duplicate());
          }
          while (b.hasRemaining()) {
            channel.write(b);
          }
        }
      } catch (IOException e) {
        fail(new FetchException(Reason.UNAVAILABLE, uri, uri + ": cannot write the download: " + e.getMessage(), e));
        return;
      }
      subscription.request(1);
    }

    @Override
    public synchronized void onError(Throwable t) {
      closeChannel();
      closed = true;
      body.completeExceptionally(t);
    }

    @Override
    public synchronized void onComplete() {
      if (closed) {
        return;
      }
      closed = true;
      try {
        if (channel != null) {
          channel.close();
        }
        body.complete(file);
      } catch (IOException e) {
        body.completeExceptionally(e);
      }
    }

    private void fail(Throwable t) {
      closed = true;
      if (subscription != null) {
        subscription.cancel();
      }
      closeChannel();
      body.completeExceptionally(t);
    }

    synchronized void abort() {
      closed = true;
      closeChannel();
    }

    private void closeChannel() {
      if (channel != null) {
        try {
          channel.close();
        } catch (IOException ignored) {
          // the download failed anyway; the caller deletes the file
        }
      }
    }

    /** The finished download, once the checksum (if any) matched. */
    synchronized Download finish() throws FetchException {
      if (check != null) {
        byte[] actual = check.digest();
        if (!sri.get().matches(actual)) {
          throw new FetchException(Reason.ABORTED, uri, uri + ": checksum.sri mismatch: expected "
              + sri.get() + ", got " + sri.get().format(actual));
        }
      }
      return new Download(uri, file, hasher.finish());
    }
  }

  /** Takes no body (redirects, errors): cancels at once, so a large error page is never read. */
  private static final class Discarding implements HttpResponse.BodySubscriber<Path> {
    private final CompletableFuture<Path> body = new CompletableFuture<>();

    @Override
    public CompletionStage<Path> getBody() {
      return body;
    }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      s.cancel();
      body.complete(null);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {}

    @Override
    public void onError(Throwable t) {
      body.complete(null);
    }

    @Override
    public void onComplete() {
      body.complete(null);
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

  /** Stops at once: downloads still running fail (close() would wait for them, up to their timeout). */
  @Override
  public void close() {
    client.shutdownNow();
  }
}
