package dev.cairn.http;

import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.blob.DigestMismatchException;
import dev.cairn.core.blob.StoreFullException;
import dev.cairn.core.digest.Digest;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.DefaultFileRegion;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleStateEvent;
import java.io.IOException;
import java.io.InputStream;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;

/**
 * One connection of the HTTP cache: reads one request at a time (the channel does not auto-read;
 * a {@code FlowControlHandler} before this one hands over one message per {@code read()}), answers
 * CAS hits the store's index knows on the event loop, runs every other store call on a virtual
 * thread, and writes the response. Only when a request has been read to
 * its end and its response written is the next one read, so pipelined requests are answered in
 * order and a body is never read faster than the store takes it.
 *
 * <p>All fields are confined to the channel's event loop; store calls get what they need as
 * arguments and hand results back with {@code executor().execute}. This class is long because it
 * is the protocol's state machine (request, body, response, keep-alive, early errors, shutdown);
 * what it calls is in {@link HttpCache}, {@link BodyPipe} and {@link HttpMetrics}.
 */
final class HttpCacheHandler extends ChannelInboundHandlerAdapter {
  private static final Logger LOG = System.getLogger(HttpCacheHandler.class.getName());

  /** An upload may have this much buffered before the socket stops being read. */
  static final int PIPE_HIGH_WATER = 1 << 20;

  private static final int PIPE_LOW_WATER = 256 << 10;
  private static final int STREAM_CHUNK = 64 << 10;
  /** A rejected body up to this size is read and dropped, so the connection stays usable. */
  private static final long DRAIN_LIMIT = 64 << 10;
  /** After an early error answer, how long the rest of a body is read before closing. */
  private static final long LINGER_MILLIS = 2_000;

  private final HttpCache cache;
  private final HttpMetrics metrics;
  private final long maxUploadBytes;
  private final Executor blocking;
  private final Semaphore actionBodyBudget;
  private final BooleanSupplier serverClosing;

  private final ReentrantLock writability = new ReentrantLock();
  private final Condition writabilityChanged = writability.newCondition();

  private ChannelHandlerContext ctx;
  private boolean readRequested;
  private Exchange exchange; // the request being handled, null between requests

  private enum Body { DISCARD, PIPE, COLLECT }

  /** One request and its response. */
  private static final class Exchange {
    final HttpRequest request;
    final String method;
    final String kind;
    final boolean keepAlive;
    final Timer.Sample sample;
    Body body = Body.DISCARD;
    BodyPipe pipe;
    byte[] collected; // an action-cache value being received; holds budget permits until stored
    int collectedLength;
    long received;
    Runnable onRequestEnd;
    boolean requestEnded;
    boolean responseStarted;
    int status; // of the response, once started
    boolean responseDone;
    boolean closeAfter;
    boolean recorded;

    Exchange(HttpRequest request, String kind, Timer.Sample sample) {
      this.request = request;
      this.method = request.method().name();
      this.kind = kind;
      this.keepAlive = HttpUtil.isKeepAlive(request);
      this.sample = sample;
    }
  }

  HttpCacheHandler(
      HttpCache cache, HttpMetrics metrics, long maxUploadBytes, Executor blocking,
      Semaphore actionBodyBudget, BooleanSupplier serverClosing) {
    this.cache = cache;
    this.metrics = metrics;
    this.maxUploadBytes = maxUploadBytes;
    this.blocking = blocking;
    this.actionBodyBudget = actionBodyBudget;
    this.serverClosing = serverClosing;
  }

  // ---- Netty events ----

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    requestMessage();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    readRequested = false;
    if (msg instanceof HttpRequest request) {
      onRequest(request);
    }
    if (msg instanceof HttpContent content) {
      onContent(content);
    } else if (!(msg instanceof HttpRequest)) {
      io.netty.util.ReferenceCountUtil.release(msg);
    }
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    // A socket read that completed no message: ask again, or the connection would stall.
    if (readRequested) {
      ctx.read();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    signalWritability();
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    Exchange ex = exchange;
    exchange = null;
    if (ex != null) {
      if (ex.pipe != null) {
        ex.pipe.fail(new IOException("client closed the connection after " + ex.received
            + " body bytes of " + ex.request.method() + " " + ex.request.uri()));
      }
      if (ex.collected != null) {
        actionBodyBudget.release(ex.collected.length);
        ex.collected = null;
      }
      record(ex, "aborted");
    }
    signalWritability();
    ctx.fireChannelInactive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
    // Idle with the client to blame: we wait for its bytes, or it does not take ours.
    if (event instanceof IdleStateEvent && (readRequested || !ctx.channel().isWritable())) {
      ctx.close();
      return;
    }
    ctx.fireUserEventTriggered(event);
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    if (!(cause instanceof IOException)) {
      LOG.log(Level.WARNING, "HTTP connection " + ctx.channel().remoteAddress() + " failed", cause);
    }
    ctx.close();
  }

  /** The server is stopping: close now if idle, else after the current response. */
  void shutdown() {
    if (exchange == null) {
      ctx.close();
    }
  }

  // ---- requests ----

  private void requestMessage() {
    if (!readRequested && ctx.channel().isActive()) {
      readRequested = true;
      ctx.read();
    }
  }

  private void onRequest(HttpRequest request) {
    if (exchange != null) {
      ctx.close(); // cannot happen: one request is read at a time
      return;
    }
    if (request.decoderResult().isFailure()) {
      // The decoder delivers nothing more from this connection (not even the end of this request).
      Exchange ex = exchange = new Exchange(request, "other", metrics.start());
      ex.closeAfter = true;
      ex.requestEnded = true;
      respondText(ex, HttpResponseStatus.BAD_REQUEST,
          "malformed request: " + request.decoderResult().cause().getMessage());
      return;
    }
    RequestPath path = RequestPath.parse(request.uri());
    String kind = switch (path) {
      case RequestPath.Key key -> key.kind().segment();
      case RequestPath.Health h -> "healthz";
      case RequestPath.Metrics m -> "metrics";
      default -> "other";
    };
    Exchange ex = exchange = new Exchange(request, kind, metrics.start());
    HttpMethod method = request.method();
    boolean read = method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD);
    switch (path) {
      case RequestPath.Malformed m -> reject(ex, HttpResponseStatus.BAD_REQUEST, m.reason());
      case RequestPath.Unknown u -> reject(ex, HttpResponseStatus.NOT_FOUND, "no such path: " + u.path());
      case RequestPath.Health h when read -> afterBody(ex, () -> respondText(ex, HttpResponseStatus.OK, "ok"));
      case RequestPath.Metrics m when read -> afterBody(ex, () -> sendMetrics(ex));
      case RequestPath.Key key when read -> afterBody(ex, () -> lookup(ex, key));
      case RequestPath.Key key when method.equals(HttpMethod.PUT) -> startUpload(ex, key);
      case RequestPath.Key key -> methodNotAllowed(ex, "GET, HEAD, PUT");
      default -> methodNotAllowed(ex, "GET, HEAD");
    }
  }

  private void onContent(HttpContent content) {
    Exchange ex = exchange;
    if (ex == null || ex.requestEnded) {
      content.release();
      return;
    }
    if (content.decoderResult().isFailure()) {
      // The decoder reads nothing more from this connection: answer (if not yet) and close.
      content.release();
      ex.closeAfter = true;
      ex.requestEnded = true;
      ex.onRequestEnd = null;
      if (ex.pipe != null) {
        ex.pipe.fail(new IOException("malformed request body: " + content.decoderResult().cause()));
      }
      if (!ex.responseStarted) {
        respondText(ex, HttpResponseStatus.BAD_REQUEST, "malformed request body");
      }
      finishIfDone(ex);
      return;
    }
    ByteBuf data = content.content();
    int n = data.readableBytes();
    ex.received += n;
    metrics.received(n);
    boolean more = true;
    switch (ex.body) {
      case PIPE -> more = ex.pipe.offer(data); // the pipe owns the buffer now
      case COLLECT -> {
        int take = Math.min(n, ex.collected.length - ex.collectedLength);
        data.readBytes(ex.collected, ex.collectedLength, take);
        ex.collectedLength += take;
        content.release();
      }
      case DISCARD -> content.release();
    }
    if (content instanceof LastHttpContent) {
      ex.requestEnded = true;
      if (ex.pipe != null) {
        ex.pipe.end();
      }
      Runnable next = ex.onRequestEnd;
      ex.onRequestEnd = null;
      if (next != null) {
        next.run();
      }
      finishIfDone(ex);
    } else if (more) {
      requestMessage();
    }
  }

  /** Runs {@code action} once the (normally empty) request body has been read and dropped. */
  private void afterBody(Exchange ex, Runnable action) {
    ex.onRequestEnd = action;
    requestMessage();
  }

  private void methodNotAllowed(Exchange ex, String allowed) {
    FullHttpResponse response = textResponse(HttpResponseStatus.METHOD_NOT_ALLOWED,
        ex.method + " is not allowed here; use " + allowed);
    response.headers().set(HttpHeaderNames.ALLOW, allowed);
    reject(ex, response);
  }

  private void reject(Exchange ex, HttpResponseStatus status, String message) {
    reject(ex, textResponse(status, message));
  }

  /**
   * Answers with an error before the body: a small body is read and dropped first so the
   * connection can be reused; otherwise the answer goes now and the connection closes after it
   * (once the rest of the body has arrived, or after a short linger).
   */
  private void reject(Exchange ex, FullHttpResponse response) {
    long length = HttpUtil.getContentLength(ex.request, -1L);
    boolean smallBody = !HttpUtil.isTransferEncodingChunked(ex.request)
        && length <= DRAIN_LIMIT
        && !HttpUtil.is100ContinueExpected(ex.request);
    if (smallBody) {
      afterBody(ex, () -> respond(ex, response));
      return;
    }
    ex.closeAfter = true;
    respond(ex, response);
    ctx.executor().schedule(() -> {
      if (exchange == ex) {
        ctx.close();
      }
    }, LINGER_MILLIS, TimeUnit.MILLISECONDS);
    requestMessage();
  }

  // ---- uploads ----

  private void startUpload(Exchange ex, RequestPath.Key key) {
    HttpRequest request = ex.request;
    long length = HttpUtil.getContentLength(request, -1L);
    if (length < 0 || HttpUtil.isTransferEncodingChunked(request)) {
      reject(ex, HttpResponseStatus.LENGTH_REQUIRED,
          "PUT needs a Content-Length (the size is part of the blob's digest)");
      return;
    }
    long limit = key.kind() == RequestPath.Kind.AC
        ? Math.min(maxUploadBytes, BlobStore.MAX_IN_MEMORY_BYTES)
        : maxUploadBytes;
    if (length > limit) {
      reject(ex, HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
          "body of " + length + " bytes is larger than the limit of " + limit + " bytes for /"
              + key.kind().segment() + "/");
      return;
    }
    if (key.kind() == RequestPath.Kind.AC && !actionBodyBudget.tryAcquire((int) length)) {
      FullHttpResponse busy = textResponse(HttpResponseStatus.SERVICE_UNAVAILABLE,
          "too many action-cache bytes in flight; retry");
      busy.headers().set(HttpHeaderNames.RETRY_AFTER, 1);
      reject(ex, busy);
      return;
    }
    if (HttpUtil.is100ContinueExpected(request)) {
      ctx.writeAndFlush(new DefaultFullHttpResponse(
          HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE, Unpooled.EMPTY_BUFFER));
    }
    switch (key.kind()) {
      case CAS -> startBlobUpload(ex, new Digest(key.hash(), length));
      case AC -> {
        ex.body = Body.COLLECT;
        ex.collected = new byte[(int) length];
        ex.onRequestEnd = () -> storeAction(ex, key.hash());
      }
    }
    requestMessage();
  }

  private void startBlobUpload(Exchange ex, Digest digest) {
    BodyPipe pipe = new BodyPipe(PIPE_HIGH_WATER, PIPE_LOW_WATER,
        () -> ctx.executor().execute(() -> resumeUpload(ex)));
    ex.body = Body.PIPE;
    ex.pipe = pipe;
    blocking.execute(() -> {
      Throwable failure = null;
      try {
        cache.put(digest, pipe);
      } catch (Throwable t) {
        failure = t;
      } finally {
        pipe.close();
      }
      Throwable result = failure;
      ctx.executor().execute(() -> stored(ex, result));
    });
  }

  private void resumeUpload(Exchange ex) {
    if (exchange == ex && !ex.requestEnded) {
      requestMessage();
    }
  }

  private void storeAction(Exchange ex, String hash) {
    byte[] value = ex.collected;
    ex.collected = null;
    blocking.execute(() -> {
      Throwable failure = null;
      try {
        cache.putAction(hash, value);
      } catch (Throwable t) {
        failure = t;
      } finally {
        actionBodyBudget.release(value.length);
      }
      Throwable result = failure;
      ctx.executor().execute(() -> stored(ex, result));
    });
  }

  /** A PUT's store call finished: answer now, or once the rest of the body has been dropped. */
  private void stored(Exchange ex, Throwable failure) {
    if (exchange != ex) {
      return; // the connection went away; recorded as aborted
    }
    if (failure == null) {
      if (ex.requestEnded) {
        respondText(ex, HttpResponseStatus.OK, "");
      } else {
        ex.onRequestEnd = () -> respondText(ex, HttpResponseStatus.OK, "");
      }
      return;
    }
    HttpResponseStatus status = switch (failure) {
      case DigestMismatchException e -> HttpResponseStatus.BAD_REQUEST;
      case StoreFullException e -> HttpResponseStatus.INSUFFICIENT_STORAGE;
      case IllegalArgumentException e -> HttpResponseStatus.BAD_REQUEST;
      default -> HttpResponseStatus.INTERNAL_SERVER_ERROR;
    };
    if (status == HttpResponseStatus.INTERNAL_SERVER_ERROR) {
      LOG.log(Level.WARNING, "storing " + ex.request.uri() + " failed", failure);
    }
    if (!ex.requestEnded) {
      ex.closeAfter = true; // do not read the rest of a body we cannot use
    }
    respondText(ex, status, String.valueOf(failure.getMessage()));
  }

  // ---- lookups ----

  private void lookup(Exchange ex, RequestPath.Key key) {
    boolean head = ex.request.method().equals(HttpMethod.HEAD);
    if (key.kind() == RequestPath.Kind.CAS && answeredFromIndex(ex, key.hash(), head)) {
      return;
    }
    blocking.execute(() -> {
      try {
        switch (key.kind()) {
          case CAS -> {
            if (head) {
              Optional<Digest> found = cache.find(key.hash());
              metrics.lookup(key.kind(), found.isPresent());
              inLoop(ex, () -> respondFound(ex, found.map(Digest::sizeBytes)), () -> {});
            } else {
              Optional<HttpCache.Blob> blob = cache.open(key.hash());
              metrics.lookup(key.kind(), blob.isPresent());
              if (blob.isPresent() && blob.get() instanceof HttpCache.StreamBlob stream) {
                sendStream(ex, stream); // runs here, on the virtual thread, with backpressure
              } else {
                inLoop(ex, () -> sendBlob(ex, blob), () -> blob.ifPresent(HttpCacheHandler::closeQuietly));
              }
            }
          }
          case AC -> {
            Optional<byte[]> value = cache.getAction(key.hash());
            metrics.lookup(key.kind(), value.isPresent());
            inLoop(ex, () -> {
              if (value.isEmpty()) {
                respondNotFound(ex);
              } else if (head) {
                respondFound(ex, Optional.of((long) value.get().length));
              } else {
                respondBytes(ex, value.get());
              }
            }, () -> {});
          }
        }
      } catch (IOException | RuntimeException e) {
        LOG.log(Level.WARNING, "lookup of " + ex.request.uri() + " failed", e);
        inLoop(ex, () -> respondText(ex, HttpResponseStatus.INTERNAL_SERVER_ERROR,
            "lookup failed: " + e.getMessage()), () -> {});
      }
    });
  }

  /**
   * Answers a CAS hit here, on the event loop, when the store's index knows the blob: a hop to a
   * virtual thread and back would cost more than the lookup and the {@code open(2)} together
   * (two thread wake-ups per request in the GET profile). False if the answer needs the store's
   * blocking path (a miss, a blob only the disk knows of, a damaged or evicted file, a busy store).
   */
  private boolean answeredFromIndex(Exchange ex, String hash, boolean head) {
    if (head) {
      Optional<Digest> found = cache.findIndexed(hash);
      if (found.isEmpty()) {
        return false;
      }
      metrics.lookup(RequestPath.Kind.CAS, true);
      respondFound(ex, Optional.of(found.get().sizeBytes()));
      return true;
    }
    Optional<HttpCache.FileBlob> blob = cache.openIndexed(hash);
    if (blob.isEmpty()) {
      return false;
    }
    HttpCache.FileBlob file = blob.get();
    if (file.digest().sizeBytes() > HttpCache.READ_LIMIT) {
      metrics.lookup(RequestPath.Kind.CAS, true);
      sendFile(ex, file);
      return true;
    }
    ByteBuf body;
    try {
      body = readExactly(file);
    } catch (IOException e) {
      // Also a kept-open file closed under us (evicted or replaced): ClosedChannelException.
      cache.discard(file);
      return false; // the blocking path tries again and reports what fails
    }
    if (body == null) {
      cache.discard(file);
      return false; // damaged: the blocking path has the store drop it
    }
    metrics.lookup(RequestPath.Kind.CAS, true);
    respondBlob(ex, body);
    return true;
  }

  /** Runs {@code action} on the event loop if the exchange is still current, else {@code orElse}. */
  private void inLoop(Exchange ex, Runnable action, Runnable orElse) {
    ctx.executor().execute(() -> {
      if (exchange == ex) {
        action.run();
      } else {
        orElse.run();
      }
    });
  }

  private void sendMetrics(Exchange ex) {
    blocking.execute(() -> {
      String text = metrics.registry() instanceof PrometheusMeterRegistry prometheus
          ? prometheus.scrape()
          : "";
      inLoop(ex, () -> {
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.OK, Unpooled.copiedBuffer(text, StandardCharsets.UTF_8));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
        respond(ex, response);
      }, () -> {});
    });
  }

  /** A file blob (zero-copy through {@code sendfile}) or a miss. */
  private void sendBlob(Exchange ex, Optional<HttpCache.Blob> blob) {
    if (blob.isEmpty()) {
      respondNotFound(ex);
      return;
    }
    sendFile(ex, (HttpCache.FileBlob) blob.get());
  }

  /**
   * A blob from its file: a small one read into one buffer and written with its headers in one
   * {@code write(2)}, a larger one zero-copy through {@code sendfile(2)} (the region closes the
   * file). For a 4 KiB blob the read saves three system calls (the JDK's {@code transferTo} does
   * an {@code fstat} and a {@code copy_file_range} that fails before its {@code sendfile}) and a
   * second TCP segment that wakes the client once more.
   */
  private void sendFile(Exchange ex, HttpCache.FileBlob file) {
    long size = file.digest().sizeBytes();
    if (size <= HttpCache.READ_LIMIT) {
      ByteBuf body;
      try {
        body = readExactly(file);
        if (body == null) {
          throw new IOException("its file is no longer " + size + " bytes long");
        }
      } catch (IOException e) {
        LOG.log(Level.WARNING, "reading blob " + file.digest() + " failed", e);
        respondText(ex, HttpResponseStatus.INTERNAL_SERVER_ERROR,
            "reading blob " + file.digest() + " failed: " + e.getMessage());
        return;
      }
      respondBlob(ex, body);
      return;
    }
    ctx.write(blobHeaders(ex, size));
    ctx.write(new DefaultFileRegion(file.channel(), 0, size));
    ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
        .addListener((ChannelFuture f) -> responseWritten(ex, f, size));
  }

  /**
   * Reads a small blob's whole file and closes it (a kept-open one stays open); null if the file
   * does not hold exactly the digest's size. This read is the size check of a blob {@link
   * HttpCache#openIndexed} opened or kept open (no {@code fstat}): it asks for one byte more than
   * the size, so a longer file fills the buffer, and a shorter one ends early. A regular file's
   * read returns less than asked only at its end (POSIX), so getting exactly the size means the
   * file ends there. Reads go by position ({@code pread}), so event loops sharing a kept-open
   * file never move each other's offset.
   */
  private ByteBuf readExactly(HttpCache.FileBlob file) throws IOException {
    int size = (int) file.digest().sizeBytes();
    int want = size + 1;
    ByteBuf body = ctx.alloc().ioBuffer(want);
    try (file) {
      FileChannel channel = file.channel();
      int got = 0;
      while (got < want) {
        int n = body.writeBytes(channel, got, want - got);
        if (n < 0) {
          break;
        }
        got += n;
        if (got == size) {
          break; // a short read: the end of the file
        }
      }
      if (got != size) {
        body.release();
        return null;
      }
      return body;
    } catch (IOException | RuntimeException e) {
      body.release();
      throw e;
    }
  }

  /** A whole blob from memory: headers and body go out in one write. */
  private void respondBlob(Exchange ex, ByteBuf body) {
    FullHttpResponse response = new DefaultFullHttpResponse(
        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, body);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
        .set(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
    respond(ex, response);
  }

  /**
   * Streams a blob the store only offers as a stream. Runs on the virtual thread and waits for
   * the channel to become writable, so at most the write buffer's high-water mark is in flight.
   */
  private void sendStream(Exchange ex, HttpCache.StreamBlob blob) {
    long size = blob.digest().sizeBytes();
    try (InputStream in = blob.stream()) {
      // The headers go from the event loop, which also checks the exchange is still current.
      CompletableFuture<Boolean> started = new CompletableFuture<>();
      ctx.executor().execute(() -> {
        if (exchange == ex) {
          ctx.write(blobHeaders(ex, size));
        }
        started.complete(exchange == ex);
      });
      if (!started.get()) {
        return;
      }
      long left = size;
      while (left > 0) {
        if (!awaitWritable()) {
          return; // the client went away; channelInactive recorded it
        }
        ByteBuf chunk = ctx.alloc().ioBuffer((int) Math.min(STREAM_CHUNK, left));
        int n;
        try {
          n = chunk.writeBytes(in, (int) Math.min(STREAM_CHUNK, left));
        } catch (IOException e) {
          chunk.release();
          throw e;
        }
        if (n < 0) {
          chunk.release();
          throw new IOException("blob " + blob.digest() + " ended " + left + " bytes early");
        }
        left -= n;
        ctx.writeAndFlush(new DefaultHttpContent(chunk));
      }
      ctx.writeAndFlush(LastHttpContent.EMPTY_LAST_CONTENT)
          .addListener((ChannelFuture f) -> responseWritten(ex, f, size));
    } catch (IOException e) {
      // The status line is gone: all we can do is cut the response short.
      LOG.log(Level.WARNING, "sending " + ex.request.uri() + " failed", e);
      ctx.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ctx.close();
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("cannot happen: the future is only completed normally", e);
    }
  }

  private boolean awaitWritable() throws InterruptedException {
    writability.lock();
    try {
      while (!ctx.channel().isWritable() && ctx.channel().isActive()) {
        writabilityChanged.await(1, TimeUnit.SECONDS);
      }
      return ctx.channel().isActive();
    } finally {
      writability.unlock();
    }
  }

  private void signalWritability() {
    writability.lock();
    try {
      writabilityChanged.signalAll();
    } finally {
      writability.unlock();
    }
  }

  // ---- responses ----

  private HttpResponse blobHeaders(Exchange ex, long size) {
    ex.responseStarted = true;
    ex.status = 200;
    HttpResponse response = new DefaultHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.OK);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
        .set(HttpHeaderNames.CONTENT_LENGTH, size);
    HttpUtil.setKeepAlive(response, keepAlive(ex));
    return response;
  }

  private void respondFound(Exchange ex, Optional<Long> size) {
    if (size.isEmpty()) {
      respondNotFound(ex);
      return;
    }
    FullHttpResponse response = new DefaultFullHttpResponse(
        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.EMPTY_BUFFER);
    response.headers()
        .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM)
        .set(HttpHeaderNames.CONTENT_LENGTH, size.get());
    respond(ex, response);
  }

  private void respondBytes(Exchange ex, byte[] bytes) {
    FullHttpResponse response = new DefaultFullHttpResponse(
        HttpVersion.HTTP_1_1, HttpResponseStatus.OK, Unpooled.wrappedBuffer(bytes));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_OCTET_STREAM);
    respond(ex, response);
  }

  private void respondNotFound(Exchange ex) {
    respondText(ex, HttpResponseStatus.NOT_FOUND, "not found: " + ex.request.uri());
  }

  private void respondText(Exchange ex, HttpResponseStatus status, String message) {
    respond(ex, textResponse(status, message));
  }

  private static FullHttpResponse textResponse(HttpResponseStatus status, String message) {
    ByteBuf body = message.isEmpty()
        ? Unpooled.EMPTY_BUFFER
        : Unpooled.copiedBuffer(message + "\n", StandardCharsets.UTF_8);
    FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
    if (body.isReadable()) {
      response.headers().set(HttpHeaderNames.CONTENT_TYPE, "text/plain; charset=utf-8");
    }
    return response;
  }

  /** Writes a complete response; a HEAD's keeps its Content-Length but loses its body. */
  private void respond(Exchange ex, FullHttpResponse response) {
    if (ex.responseStarted) {
      response.release();
      return;
    }
    ex.responseStarted = true;
    ex.status = response.status().code();
    boolean head = ex.request.method().equals(HttpMethod.HEAD);
    long bodyBytes = head ? 0 : response.content().readableBytes();
    if (!response.headers().contains(HttpHeaderNames.CONTENT_LENGTH)) {
      response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    }
    if (head && response.content().isReadable()) {
      FullHttpResponse bodiless = response.replace(Unpooled.EMPTY_BUFFER);
      response.release();
      response = bodiless;
    }
    HttpUtil.setKeepAlive(response, keepAlive(ex));
    ctx.writeAndFlush(response).addListener((ChannelFuture f) -> responseWritten(ex, f, bodyBytes));
  }

  private boolean keepAlive(Exchange ex) {
    return ex.keepAlive && !ex.closeAfter && !serverClosing.getAsBoolean();
  }

  private void responseWritten(Exchange ex, ChannelFuture write, long bodyBytes) {
    if (!write.isSuccess()) {
      ctx.close();
      return;
    }
    metrics.sent(bodyBytes);
    ex.responseDone = true;
    finishIfDone(ex);
  }

  /** Once the request is read and the response written: the next request, or close. */
  private void finishIfDone(Exchange ex) {
    if (exchange != ex || !ex.requestEnded || !ex.responseDone) {
      return;
    }
    exchange = null;
    record(ex, Integer.toString(ex.status));
    if (!keepAlive(ex)) {
      ctx.close();
    } else {
      requestMessage();
    }
  }

  private void record(Exchange ex, String status) {
    if (!ex.recorded) {
      ex.recorded = true;
      metrics.request(ex.sample, ex.method, ex.kind, status);
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // nothing to do
    }
  }
}
