package dev.cairn.asset;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP origin on loopback for fetcher tests: serves given bytes at paths, redirects,
 * stalls, and counts the requests and records the headers it received per path.
 */
final class TestOrigin implements AutoCloseable {
  interface Handler {
    void handle(HttpExchange exchange) throws IOException, InterruptedException;
  }

  private final HttpServer server;
  private final Map<String, Handler> handlers = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> counts = new ConcurrentHashMap<>();
  final List<Headers> received = new CopyOnWriteArrayList<>();
  final Map<String, Headers> lastHeaders = new ConcurrentHashMap<>();

  TestOrigin() throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", exchange -> {
      String path = exchange.getRequestURI().getPath();
      counts.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
      lastHeaders.put(path, exchange.getRequestHeaders());
      received.add(exchange.getRequestHeaders());
      Handler h = handlers.get(path);
      try {
        if (h == null) {
          exchange.sendResponseHeaders(404, -1);
        } else {
          h.handle(exchange);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (IOException e) {
        // the client went away
      } finally {
        exchange.close();
      }
    });
    server.start();
  }

  String url(String path) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + path;
  }

  int port() {
    return server.getAddress().getPort();
  }

  /** Serves {@code body} at {@code path} with a Content-Length. */
  TestOrigin serve(String path, byte[] body) {
    handlers.put(path, ex -> {
      ex.sendResponseHeaders(200, body.length == 0 ? -1 : body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    return this;
  }

  /** Serves {@code body} chunked (no Content-Length), so a size limit must count while reading. */
  TestOrigin serveChunked(String path, byte[] body) {
    handlers.put(path, ex -> {
      ex.sendResponseHeaders(200, 0);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    return this;
  }

  /** Serves the first bytes of {@code body}, then stalls for {@code millis} before the rest. */
  TestOrigin serveStalling(String path, byte[] body, long millis) {
    handlers.put(path, ex -> {
      ex.sendResponseHeaders(200, body.length);
      OutputStream out = ex.getResponseBody();
      out.write(body, 0, 10);
      out.flush();
      Thread.sleep(millis);
      out.write(body, 10, body.length - 10);
      out.close();
    });
    return this;
  }

  /** Serves {@code body} after waiting {@code millis} (a slow origin, so fetches overlap). */
  TestOrigin serveSlowly(String path, byte[] body, long millis) {
    handlers.put(path, ex -> {
      Thread.sleep(millis);
      ex.sendResponseHeaders(200, body.length);
      try (OutputStream out = ex.getResponseBody()) {
        out.write(body);
      }
    });
    return this;
  }

  TestOrigin redirect(String path, String location) {
    handlers.put(path, ex -> {
      ex.getResponseHeaders().add("Location", location);
      ex.sendResponseHeaders(302, -1);
    });
    return this;
  }

  int requests(String path) {
    AtomicInteger n = counts.get(path);
    return n == null ? 0 : n.get();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
