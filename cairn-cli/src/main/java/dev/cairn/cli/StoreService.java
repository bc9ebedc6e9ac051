package dev.cairn.cli;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import dev.cairn.fuse.CairnMount;
import dev.cairn.store.disk.DiskBlobStore;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.System.Logger.Level;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The store service: a process that keeps a store open and runs {@code cairn mount}, {@code
 * import} and {@code export} command lines for clients, so that such a command costs no JVM start
 * (the {@code ./cairn} launcher speaks the protocol in bash) and runs on code the JIT already
 * compiled. It is the daemon of the first non-foreground {@code cairn mount} of a store, or one
 * that {@code cairn import} or {@code export} started in the background ({@link ServiceCommand}).
 * All commands share the one open {@link DiskBlobStore}; each mount keeps its own {@link
 * CairnMount}, remote, refs and threads.
 *
 * <p>Clients find it through {@code <store>/service} (mode 0600, replaced atomically):
 * {@code port=}, {@code token=} (256 random bits, hex) and {@code pid=} lines. It listens on
 * 127.0.0.1 only; a request without the token is logged and dropped. Requests are command lines
 * ({@link ServiceRequest}) run by the same picocli code as in a process of their own, in the
 * client's working directory and environment. What the service cannot host (another store or
 * global options, {@code --foreground}, another subcommand, a jar rebuilt since it started) is
 * answered "fallback", and the client runs the command itself. A client whose stdout and stderr
 * are terminals says how wide ({@value #TERMINAL_ENV}); its progress bar is then sent while the
 * command runs.
 *
 * <p>Once its last mount and request are gone the service lingers ({@value #LINGER_ENV}, default
 * 5 minutes) so that the next command is fast, then exits and removes the file; SIGTERM unmounts
 * every mount first. Thread-safe: requests run on threads of their own; the state is guarded by {@code
 * this}.
 */
final class StoreService {

  static final String FILE = "service";
  static final String LINGER_ENV = "CAIRN_SERVICE_LINGER";
  static final Duration DEFAULT_LINGER = Duration.ofMinutes(5);
  /**
   * Sent by a client whose stdout and stderr are terminals: their width in columns. The command's
   * progress bar is then sent while it runs (as {@link ServiceRequest#PROGRESS} fields).
   */
  static final String TERMINAL_ENV = "CAIRN_TERMINAL";
  /**
   * Sent by every client: its process id, which must hold the connection's socket and share the
   * service's mount namespace ({@link PeerCheck}); not passed on to the command.
   */
  static final String CLIENT_PID_ENV = "CAIRN_CLIENT_PID";
  /**
   * Sent by clients of {@code export}: their umask (octal), which must be the service's, as the
   * directories an export creates get their mode from it.
   */
  static final String UMASK_ENV = "CAIRN_UMASK";
  /** What a request may set of the environment: the variables the hosted commands read. */
  static final Set<String> ENV_NAMES =
      Set.of("HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME", "CAIRN_DEBUG", TERMINAL_ENV);
  /** The commands a service runs; it answers any other "fallback". */
  static final Set<String> HOSTED = Set.of("mount", "import", "export");
  private static final int READ_TIMEOUT_MILLIS = 5_000;
  private static final int MAX_CONNECTIONS = 8;
  /** How often an idle service checks that its file is still its own and its jar unchanged. */
  private static final long CHECK_MILLIS = 2_000;

  private static final System.Logger LOG = System.getLogger("cairn");

  /**
   * The global options every hosted mount must share with the service.
   *
   * @param store the store directory, absolute
   * @param maxSize the limit the service was started with, if any
   * @param digestFunction the store's hash function
   */
  record Options(Path store, OptionalLong maxSize, DigestFunction digestFunction) {

    /** Why a command with these options cannot be hosted by a service with {@code service}'s. */
    Optional<String> mismatch(Options service) {
      if (!store.equals(service.store)) {
        return Optional.of("store " + store + " is not the service's " + service.store);
      }
      if (maxSize.isPresent() && !maxSize.equals(service.maxSize)) {
        return Optional.of("--max-size differs from the service's");
      }
      if (digestFunction != service.digestFunction) {
        return Optional.of("--digest-function differs from the service's");
      }
      return Optional.empty();
    }
  }

  /** Opens one mount on the service's store; what {@code cairn mount} would serve itself. */
  @FunctionalInterface
  interface Opener {
    MountCommand.Served open(DiskBlobStore local) throws Exception;
  }

  /** The service as one request sees it: hosts its mount, or declines it. Not thread-safe. */
  static final class Client {
    private final StoreService service;
    private String declined;

    private Client(StoreService service) {
      this.service = service;
    }

    StoreService service() {
      return service;
    }

    /** The service's store, shared by every command it runs; never closed by one. */
    DiskBlobStore store() {
      return service.local;
    }

    /** Makes the reply "fallback": the client runs the command itself. */
    void decline(String reason) {
      declined = reason;
    }
  }

  private final DiskBlobStore local;
  private final Options options;
  private final Duration linger;
  private final ServerSocket socket;
  private final String token;
  /** Sent first in every reply: proves to the client that it reached this service. */
  private final String proof = secret();
  private final Path file;
  private final Optional<JarStamp> jar;
  private final Semaphore connections = new Semaphore(MAX_CONNECTIONS);
  private final Map<Hosted, Boolean> mounts = new LinkedHashMap<>(); // guarded by this
  private int requests; // guarded by this: requests being answered
  private long idleSince; // guarded by this: System.nanoTime() when the last mount/request ended
  private boolean stopping; // guarded by this

  private StoreService(DiskBlobStore local, Options options, Duration linger, ServerSocket socket,
      String token, Path file, Optional<JarStamp> jar) {
    this.local = local;
    this.options = options;
    this.linger = linger;
    this.socket = socket;
    this.token = token;
    this.file = file;
    this.jar = jar;
    this.idleSince = System.nanoTime();
  }

  /**
   * Starts serving requests for {@code local} (which the service now owns and closes at exit)
   * and publishes the rendezvous file.
   */
  static StoreService start(DiskBlobStore local, Options options, Duration linger)
      throws IOException {
    ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    try {
      String token = secret();
      StoreService service = new StoreService(local, options, linger, socket, token,
          options.store().resolve(FILE), JarStamp.of(StoreService.class));
      service.publish();
      Thread.ofPlatform().daemon(true).name("store-service").start(service::acceptLoop);
      LOG.log(Level.INFO, "store service for " + options.store() + " on 127.0.0.1:"
          + socket.getLocalPort() + ", lingering " + linger.toSeconds() + " s once idle");
      return service;
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /**
   * {@link #start}s the service as this process's own: SIGTERM, SIGINT, SIGHUP and the JVM's exit
   * shut it down (unmounting its mounts). {@code local} is closed if it cannot start.
   */
  static StoreService startForProcess(DiskBlobStore local, Options options, Duration linger)
      throws IOException {
    StoreService service;
    try {
      service = start(local, options, linger);
    } catch (IOException | RuntimeException e) {
      local.close();
      throw e;
    }
    for (String name : List.of("TERM", "INT", "HUP")) {
      sun.misc.Signal.handle(new sun.misc.Signal(name),
          s -> Thread.ofPlatform().start(service::shutdown));
    }
    Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(service::shutdown));
    return service;
  }

  Options options() {
    return options;
  }

  /** 256 random bits, as 64 hex digits. */
  private static String secret() {
    byte[] bits = new byte[32];
    new SecureRandom().nextBytes(bits);
    return HexFormat.of().formatHex(bits);
  }

  /**
   * Mounts what {@code opener} describes on the shared store and serves it until it is
   * unmounted; returns 0 once the mount is ready. Failures are the command's (exit 1).
   */
  int host(Path mountpoint, boolean captureOnUnmount, Opener opener) throws Exception {
    MountCommand.Served opened = opener.open(local);
    Hosted served = new Hosted(mountpoint, opened, captureOnUnmount);
    boolean late;
    synchronized (this) {
      mounts.put(served, Boolean.TRUE);
      late = stopping; // shutdown() ran while this mount was being made: it missed it
    }
    if (late) {
      end(served);
      throw new IOException("the store service stopped while mounting " + mountpoint
          + "; mount again");
    }
    Thread.ofPlatform().daemon(true).name("unmount-watch").start(() -> {
      try {
        opened.mount().awaitUnmount(); // cairn umount, umount, fusermount3 -u
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      end(served);
    });
    return 0;
  }

  /** Unmounts every mount, then lets {@link #awaitExit()} return; for SIGTERM and shutdown. */
  void shutdown() {
    List<Hosted> all;
    synchronized (this) {
      stopping = true;
      all = List.copyOf(mounts.keySet());
      notifyAll();
    }
    all.forEach(this::end);
  }

  /**
   * Blocks until the service is done: stopped, or idle (no mount, no request) for the linger
   * time. Then stops listening, removes the rendezvous file and closes the store.
   */
  int awaitExit() throws InterruptedException {
    synchronized (this) {
      while (true) {
        boolean idle = mounts.isEmpty() && requests == 0;
        if (idle && stopping) {
          LOG.log(Level.INFO, "store service stopped: exiting");
          break;
        }
        if (idle) {
          long left = idleSince + linger.toNanos() - System.nanoTime();
          if (left <= 0) {
            stopping = true;
            LOG.log(Level.INFO, "store service idle for " + linger.toSeconds() + " s: exiting");
            break;
          }
          // No client can reach a service whose file another one replaced (or removed), nor use
          // one whose jar was rebuilt: lingering would only hold the store (and the background
          // service's lock, so that no new one could start).
          Optional<String> useless = uselessness();
          if (useless.isPresent()) {
            stopping = true;
            LOG.log(Level.INFO, "store service idle and " + useless.get() + ": exiting");
            break;
          }
          wait(Math.max(1, Math.min(left / 1_000_000, CHECK_MILLIS)));
        } else {
          wait();
        }
      }
    }
    try {
      socket.close();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "closing the store service socket: " + e.getMessage());
    }
    unpublish();
    try {
      local.close();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "closing the store: " + e.getMessage());
    }
    return 0;
  }

  // ------------------------------------------------------------------ mounts

  /** A hosted mount; ends once. */
  private record Hosted(Path mountpoint, MountCommand.Served opened, boolean captureOnUnmount,
      AtomicBoolean ended) {
    Hosted(Path mountpoint, MountCommand.Served opened, boolean captureOnUnmount) {
      this(mountpoint, opened, captureOnUnmount, new AtomicBoolean());
    }
  }

  /** Unmounts (if still mounted), finishes the mount's services and forgets it. */
  private void end(Hosted served) {
    if (!served.ended().compareAndSet(false, true)) {
      return;
    }
    CairnMount mount = served.opened().mount();
    try {
      Digest last = mount.unmount(); // final flush, access log, scratch cleanup
      if (served.captureOnUnmount()) {
        LOG.log(Level.INFO, served.mountpoint() + ": final root digest " + last);
      }
    } catch (IOException e) {
      LOG.log(Level.ERROR, "unmounting " + served.mountpoint() + " failed: " + e.getMessage());
    }
    if (mount.fuse().session().failure() != null) {
      LOG.log(Level.ERROR, served.mountpoint() + ": FUSE session failed: "
          + mount.fuse().session().failure());
    }
    served.opened().closeResources();
    LOG.log(Level.INFO, "unmounted " + served.mountpoint());
    synchronized (this) {
      mounts.remove(served);
      if (mounts.isEmpty() && requests == 0) {
        idleSince = System.nanoTime();
      }
      notifyAll();
    }
  }

  // ------------------------------------------------------------------ requests

  private void acceptLoop() {
    while (!socket.isClosed()) {
      Socket connection;
      try {
        connection = socket.accept();
      } catch (IOException e) {
        if (!socket.isClosed()) {
          LOG.log(Level.WARNING, "store service: accept failed: " + e.getMessage());
          pause(); // e.g. out of file descriptors: do not spin on a failure that persists
        }
        continue;
      }
      if (!connections.tryAcquire()) {
        LOG.log(Level.WARNING, "store service: more than " + MAX_CONNECTIONS
            + " connections at once; closing one from port " + connection.getPort());
        closeQuietly(connection);
        continue;
      }
      // A platform thread: the commands do file I/O, which on a virtual thread blocks its carrier
      // and makes the scheduler add carriers (an import's walk calls lstat 15,000 times).
      Thread.ofPlatform().daemon(true).name("service-request").start(() -> {
        try {
          handle(connection);
        } finally {
          connections.release();
        }
      });
    }
  }

  private static void pause() {
    try {
      Thread.sleep(100);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void handle(Socket connection) {
    try (connection) {
      ServiceRequest request;
      DeadlineInput deadline = new DeadlineInput(connection);
      InputStream in = new BufferedInputStream(deadline);
      try {
        request = ServiceRequest.read(in);
      } catch (ServiceRequest.MalformedException | SocketTimeoutException e) {
        LOG.log(Level.WARNING, "store service: dropped a request from port "
            + connection.getPort() + ": " + e.getMessage());
        return;
      }
      if (!MessageDigest.isEqual(token.getBytes(StandardCharsets.US_ASCII),
          request.token().getBytes(StandardCharsets.UTF_8))) {
        LOG.log(Level.WARNING, "store service: dropped a request from port "
            + connection.getPort() + " with a wrong token");
        return;
      }
      OutputStream out = connection.getOutputStream();
      out.write(ServiceRequest.replyHead(proof)); // a live service: the client now waits for the rest
      out.flush();
      deadline.restart();
      int go;
      try {
        go = in.read();
      } catch (SocketTimeoutException e) {
        go = -1;
      }
      if (go != ServiceRequest.GO) { // the client gave up (and mounts by itself): do nothing
        LOG.log(Level.WARNING, "store service: a client from port " + connection.getPort()
            + " left before its go-ahead; its request was not run");
        return;
      }
      Optional<String> stranger = PeerCheck.problem(connection.getPort(),
          connection.getLocalPort(), request.env().get(CLIENT_PID_ENV));
      if (stranger.isPresent()) { // e.g. a sandboxed process that could read the token
        out.write(fallback("client not served: " + stranger.get()));
        out.flush();
        return;
      }
      ClientWatch watch = new ClientWatch(connection, Thread.currentThread());
      byte[] reply;
      try {
        reply = answer(request, out);
      } finally {
        watch.commandDone();
      }
      out.write(reply);
      out.flush();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "store service: request failed: " + e.getMessage());
    }
  }

  /**
   * Interrupts a command whose client went away (Ctrl-C on the launcher closes the connection:
   * the client sends nothing after its go-ahead, so any end of input means it left), so that an
   * export or import the user cancelled does not run on. Interrupted, the command fails as it
   * would on Ctrl-C in a process of its own (an import or export stops; a mount being made is
   * undone).
   */
  private static final class ClientWatch {
    private final Thread command;
    private boolean running = true; // guarded by this

    ClientWatch(Socket connection, Thread command) throws IOException {
      this.command = command;
      connection.setSoTimeout(0);
      InputStream raw = connection.getInputStream();
      Thread.ofVirtual().name("service-client-watch").start(() -> {
        try {
          while (raw.read() >= 0) {
            // nothing is expected after the go-ahead
          }
        } catch (IOException e) {
          // reset, or closed by us once the reply was written
        }
        clientLeft(connection.getPort());
      });
    }

    private synchronized void clientLeft(int port) {
      if (running) {
        LOG.log(Level.WARNING, "store service: the client from port " + port
            + " left while its command ran; interrupting it");
        command.interrupt();
      }
    }

    /** Called by the command's thread once it returned; clears an interrupt that came late. */
    void commandDone() {
      synchronized (this) {
        running = false;
      }
      Thread.interrupted();
    }
  }

  /**
   * The connection's input, failing once {@value #READ_TIMEOUT_MILLIS} ms passed since it was made
   * or last {@linkplain #restart restarted}: a client sending a byte now and then cannot hold a
   * connection longer than that.
   */
  private static final class DeadlineInput extends FilterInputStream {
    private final Socket connection;
    private long deadline;

    DeadlineInput(Socket connection) throws IOException {
      super(connection.getInputStream());
      this.connection = connection;
      restart();
    }

    void restart() {
      deadline = System.nanoTime() + READ_TIMEOUT_MILLIS * 1_000_000L;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      long left = (deadline - System.nanoTime()) / 1_000_000;
      if (left <= 0) {
        throw new SocketTimeoutException("not complete within " + READ_TIMEOUT_MILLIS + " ms");
      }
      connection.setSoTimeout((int) left);
      return super.read(b, off, len);
    }
  }

  /**
   * Runs an authenticated request; the reply's bytes after its first field. Progress fields, if
   * the client asked for them, go to {@code live} while the command runs.
   */
  byte[] answer(ServiceRequest request, OutputStream live) {
    synchronized (this) {
      if (stopping) {
        return fallback("the service is exiting");
      }
      requests++;
    }
    try {
      if (jar.isPresent() && jar.get().changed()) {
        return fallback("the service's jar " + jar.get().path() + " changed since it started");
      }
      String[] args = request.args().toArray(String[]::new);
      String subcommand = Main.subcommandName(args);
      if (subcommand == null || !HOSTED.contains(subcommand)) {
        return fallback("not a command the service runs");
      }
      for (String arg : args) {
        if (List.of("-h", "--help", "-V", "--version").contains(arg)) {
          return fallback("help and version are answered by the client");
        }
      }
      if (subcommand.equals("export") && !sameUmask(request.env().get(UMASK_ENV))) {
        return fallback("the client's umask is not the service's");
      }
      Path cwd = Path.of(request.cwd());
      if (!cwd.isAbsolute()) {
        return fallback("working directory '" + request.cwd() + "' is not absolute");
      }
      Map<String, String> env = new LinkedHashMap<>();
      request.env().forEach((name, value) -> {
        if (ENV_NAMES.contains(name)) {
          env.put(name, value);
        }
      });
      if (subcommand.equals("import")) {
        // Blobs other processes deleted (their gc) must not count as present, or the import
        // would not store them again. (An export or mount only reads: a blob gone is an error.)
        try {
          local.resync();
        } catch (IOException e) {
          return fallback("cannot read the store directory again: " + e.getMessage());
        }
      }
      Client client = new Client(this);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      ByteArrayOutputStream err = new ByteArrayOutputStream();
      int columns = terminalColumns(env.get(TERMINAL_ENV));
      ProgressFields progress = columns > 0 ? new ProgressFields(live) : null;
      int status;
      try (PrintStream errStream = new PrintStream(err, true, StandardCharsets.UTF_8)) {
        status = Main.run(new Invocation(out, errStream, env, cwd, client,
            progress == null ? null : new PrintStream(progress, true, StandardCharsets.UTF_8),
            columns), args);
      } finally {
        if (progress != null) {
          progress.close(); // nothing more may come between the progress and the reply's end
        }
      }
      if (client.declined != null) {
        return fallback(client.declined);
      }
      LOG.log(Level.INFO, "store service: 'cairn " + String.join(" ", args).replaceAll(
          "\\p{Cntrl}", "?") + "' in " + cwd + ": exit status " + status);
      return ServiceRequest.replyBody(Integer.toString(status), out.toString(StandardCharsets.UTF_8),
          err.toString(StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      // The command may have run in part: the client must not run it again (no "fallback").
      LOG.log(Level.ERROR, "store service: request failed", e);
      return ServiceRequest.replyBody("1", "", "cairn: internal error in the store service (pid "
          + ProcessHandle.current().pid() + "): " + e + "\n");
    } finally {
      synchronized (this) {
        requests--;
        if (mounts.isEmpty() && requests == 0) {
          idleSince = System.nanoTime();
        }
        notifyAll();
      }
    }
  }

  /** Whether {@code octal} (as bash's {@code umask} prints it) is this process's umask. */
  static boolean sameUmask(String octal) {
    return octal != null && octal.matches("[0-7]{1,4}") && OwnUmask.VALUE >= 0
        && Integer.parseInt(octal, 8) == OwnUmask.VALUE;
  }

  /** This process's umask, read once (on the first export request); -1 if unknown. */
  private static final class OwnUmask {
    static final int VALUE = read();

    private static int read() {
      try {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
          if (line.startsWith("Umask:")) {
            return Integer.parseInt(line.substring(6).trim(), 8);
          }
        }
      } catch (IOException | NumberFormatException e) {
        return -1;
      }
      return -1;
    }
  }

  /** A terminal width from {@value #TERMINAL_ENV}; 0 (no progress) if absent or implausible. */
  static int terminalColumns(String text) {
    if (text == null || !text.matches("[0-9]{1,4}")) {
      return 0;
    }
    int columns = Integer.parseInt(text);
    return columns >= 20 && columns <= 1000 ? columns : 0;
  }

  /**
   * Sends what the progress bar writes to the client as it comes, one {@link
   * ServiceRequest#PROGRESS} field per batch, from a thread of its own: the progress library
   * renders every bar on one shared thread, which must never wait on a client that stopped
   * reading (Ctrl-Z, Ctrl-S). Unsent output is bounded: beyond {@value #MAX_PENDING} bytes only
   * the latest frame (from its carriage return on) is kept. A client that went away only loses
   * the bar. {@link #close} sends what is pending and returns once nothing more will be sent.
   */
  private static final class ProgressFields extends OutputStream {
    private static final int MAX_PENDING = 64 * 1024;
    private final OutputStream client;
    private final Thread sender;
    private byte[] pending = new byte[256]; // guarded by this
    private int size; // guarded by this
    private boolean closed; // guarded by this
    private boolean failed; // guarded by this

    ProgressFields(OutputStream client) {
      this.client = client;
      this.sender = Thread.ofVirtual().name("service-progress").start(this::sendLoop);
    }

    @Override
    public void write(int b) {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public synchronized void write(byte[] b, int off, int len) {
      if (closed || failed || len == 0) {
        return;
      }
      if (size + len > pending.length) {
        pending = java.util.Arrays.copyOf(pending, Math.max(size + len, pending.length * 2));
      }
      System.arraycopy(b, off, pending, size, len);
      size += len;
      if (size > MAX_PENDING) { // the client reads slower than the bar draws: keep the last frame
        int frame = size - 1;
        while (frame > 0 && pending[frame] != '\r') {
          frame--;
        }
        frame = Math.max(frame, size - MAX_PENDING); // and never more than the last 64 KiB
        System.arraycopy(pending, frame, pending, 0, size - frame);
        size -= frame;
      }
      notifyAll();
    }

    private void sendLoop() {
      while (true) {
        byte[] batch;
        synchronized (this) {
          while (size == 0 && !closed) {
            try {
              wait();
            } catch (InterruptedException e) {
              return;
            }
          }
          if (size == 0) {
            return; // closed, and everything sent
          }
          batch = java.util.Arrays.copyOf(pending, size);
          size = 0;
        }
        try {
          client.write(ServiceRequest.progressField(batch, 0, batch.length));
          client.flush();
        } catch (IOException e) {
          synchronized (this) {
            failed = true;
            size = 0;
          }
          return;
        }
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        closed = true;
        notifyAll();
      }
      boolean interrupted = false;
      while (true) {
        try {
          sender.join();
          break;
        } catch (InterruptedException e) {
          interrupted = true; // the client left: the sender's write fails soon
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private static byte[] fallback(String reason) {
    LOG.log(Level.INFO, "store service: declined a request (" + reason + ")");
    return ServiceRequest.replyBody(ServiceRequest.FALLBACK, "", "");
  }

  // ------------------------------------------------------------------ rendezvous file

  /** Writes the rendezvous file: readable by this user only, replaced in one rename. */
  private void publish() throws IOException {
    // Created exclusively under a random name, mode 0600, and written without following a link:
    // nothing planted in the store directory can receive the secrets.
    Path tmp = Files.createTempFile(file.getParent(), FILE + ".", ".tmp");
    try {
      try (var out = Files.newByteChannel(tmp, java.nio.file.StandardOpenOption.WRITE,
          java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        out.write(java.nio.ByteBuffer.wrap(("port=" + socket.getLocalPort() + "\ntoken=" + token
            + "\nreply=" + proof + "\npid=" + ProcessHandle.current().pid() + "\njar="
            + jar.map(j -> j.path().toString()).filter(j -> j.indexOf('\n') < 0).orElse("")
            + "\n")
            .getBytes(StandardCharsets.UTF_8)));
      }
      // A file system that ignores modes (vfat, some network ones) would show the secrets to all.
      String mode = java.nio.file.attribute.PosixFilePermissions.toString(
          Files.getPosixFilePermissions(tmp, java.nio.file.LinkOption.NOFOLLOW_LINKS));
      if (!mode.equals("rw-------")) {
        throw new IOException("its mode is " + mode + ", not rw------- (a file system that"
            + " ignores modes?)");
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      Files.deleteIfExists(tmp);
      throw new IOException("cannot write the store service file " + file + ": " + e.getMessage(),
          e);
    }
  }

  /** Why clients can no longer use this service, if they cannot. */
  private Optional<String> uselessness() {
    if (jar.isPresent() && jar.get().changed()) {
      return Optional.of("its jar " + jar.get().path() + " was rebuilt");
    }
    try {
      if (!fileIsOurs()) {
        return Optional.of("its file " + file + " names another service");
      }
    } catch (NoSuchFileException e) {
      return Optional.of("its file " + file + " is gone");
    } catch (IOException e) {
      return Optional.empty(); // unreadable for now: keep serving the clients that can read it
    }
    return Optional.empty();
  }

  /** Whether the rendezvous file is still this service's (not replaced by a newer one's). */
  private boolean fileIsOurs() throws IOException {
    return Files.readString(file, StandardCharsets.UTF_8).contains("token=" + token + "\n");
  }

  /** Removes the rendezvous file unless a newer service replaced it. */
  private void unpublish() {
    try {
      if (fileIsOurs()) {
        Files.delete(file);
      }
    } catch (NoSuchFileException e) {
      // removed by hand: nothing to do
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot remove the store service file " + file + ": "
          + e.getMessage());
    }
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // nothing more to do with it
    }
  }

  /**
   * The jar this process runs, as it was at start: a service must not serve requests for a newer
   * build (the launcher rebuilds when sources change), so a changed jar means "fallback".
   */
  private record JarStamp(Path path, Object fileKey, long modifiedMillis, long size) {

    static Optional<JarStamp> of(Class<?> c) {
      try {
        Path path = Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI());
        if (!Files.isRegularFile(path)) {
          return Optional.empty(); // classes from a directory (tests): no build to compare
        }
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        return Optional.of(new JarStamp(path, a.fileKey(), a.lastModifiedTime().toMillis(),
            a.size()));
      } catch (Exception e) {
        return Optional.empty();
      }
    }

    boolean changed() {
      try {
        BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
        return !java.util.Objects.equals(a.fileKey(), fileKey)
            || a.lastModifiedTime().toMillis() != modifiedMillis || a.size() != size;
      } catch (IOException e) {
        return true;
      }
    }
  }

  /** Parses {@value #LINGER_ENV}: {@code 0}, seconds, or a number with ms, s, m or h. */
  static Duration parseLinger(String text) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("([0-9]{1,9})(ms|s|m|h)?")
        .matcher(text.trim());
    if (!m.matches()) {
      throw new IllegalArgumentException(LINGER_ENV + ": expected a duration such as 0, 30s, 5m"
          + " or 1h, got '" + text + "'");
    }
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "s" : m.group(2);
    return switch (unit) {
      case "ms" -> Duration.ofMillis(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      default -> Duration.ofSeconds(n);
    };
  }
}
