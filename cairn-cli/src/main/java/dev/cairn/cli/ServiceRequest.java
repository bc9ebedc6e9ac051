package dev.cairn.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One command line ({@code cairn mount}, {@code import} or {@code export}) sent to the {@link
 * StoreService}, and the framing of its
 * request and reply. The framing is made for a bash client ({@code printf '%s\0'} to send,
 * {@code read -d ''} to receive): every field is UTF-8 text ended by a NUL byte.
 *
 * <pre>
 * request = "cairn-service-1" token cwd N env{N} M arg{M}
 *           token: the service's 64 hex digits; cwd: absolute; env: NAME=VALUE;
 *           N, M: decimal counts (the client cannot half-close, so the counts end the request)
 * reply   = proof progress* status stdout stderr
 *           proof: the service's second secret from the rendezvous file ("reply="), which only
 *           the service and the file's owner know: a process that took over a dead service's
 *           port cannot answer for it
 *           progress: "p:" and what the command's progress bar wrote, sent as it runs, only
 *           to a client that said its terminal's width (StoreService.TERMINAL_ENV)
 *           status: the exit status (0, 1, 2), or "fallback": run the command yourself
 * </pre>
 *
 * The service sends the reply's first field as soon as the token checked out, then waits for the
 * client's go-ahead, one byte {@code g}, and runs the command only after it. A client that timed
 * out waiting for the first field (and now mounts the normal way) closes the connection instead,
 * so the two never both mount. After its go-ahead the client waits as long as the command takes
 * and treats a lost connection as an error, never as a reason to mount itself. It keeps the
 * connection open both ways until the reply came: an end of its input tells the service that the
 * client left (Ctrl-C), and the command is interrupted.
 *
 * A request is at most {@link #MAX_BYTES}; fields may not contain NUL (replies drop any).
 *
 * @param token the secret read from the rendezvous file
 * @param cwd the client's working directory
 * @param env the client's values of the variables the mount command reads
 * @param args the command line after {@code cairn}
 */
record ServiceRequest(String token, String cwd, Map<String, String> env, List<String> args) {

  static final String MAGIC = "cairn-service-1";
  static final int MAX_BYTES = 64 * 1024;
  static final String FALLBACK = "fallback";
  /** Begins a progress field of the reply; no status begins so. */
  static final String PROGRESS = "p:";
  /** The client's go-ahead after the reply's first field. */
  static final int GO = 'g';
  private static final int MAX_ENV = 32;
  private static final int MAX_ARGS = 1024;

  /** A request that breaks the framing: the connection is closed without an answer. */
  static final class MalformedException extends IOException {
    MalformedException(String message) {
      super(message);
    }
  }

  ServiceRequest {
    Objects.requireNonNull(token, "token");
    Objects.requireNonNull(cwd, "cwd");
    env = Map.copyOf(env);
    args = List.copyOf(args);
  }

  /**
   * Reads one request, failing on anything but a complete one: truncated, too large, not UTF-8,
   * a wrong magic or a bad count. The token is not checked here.
   */
  static ServiceRequest read(InputStream in) throws IOException {
    Fields fields = new Fields(in);
    String magic = fields.next("magic");
    if (!magic.equals(MAGIC)) {
      throw new MalformedException("not a cairn mount request (starts with '" + abbreviate(magic)
          + "')");
    }
    String token = fields.next("token");
    String cwd = fields.next("cwd");
    int envCount = fields.count("environment count", MAX_ENV);
    Map<String, String> env = new LinkedHashMap<>();
    for (int i = 0; i < envCount; i++) {
      String entry = fields.next("environment variable");
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new MalformedException("environment entry '" + abbreviate(entry)
            + "' is not NAME=VALUE");
      }
      env.put(entry.substring(0, eq), entry.substring(eq + 1));
    }
    int argCount = fields.count("argument count", MAX_ARGS);
    List<String> args = new ArrayList<>(argCount);
    for (int i = 0; i < argCount; i++) {
      args.add(fields.next("argument"));
    }
    return new ServiceRequest(token, cwd, env, args);
  }

  /** The request as a client sends it. */
  byte[] encode() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    field(out, MAGIC);
    field(out, token);
    field(out, cwd);
    field(out, Integer.toString(env.size()));
    env.forEach((name, value) -> field(out, name + "=" + value));
    field(out, Integer.toString(args.size()));
    args.forEach(a -> field(out, a));
    return out.toByteArray();
  }

  /** A whole reply: {@code status} is an exit status or {@link #FALLBACK}. */
  static byte[] reply(String proof, String status, String stdout, String stderr) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(replyHead(proof));
    out.writeBytes(replyBody(status, stdout, stderr));
    return out.toByteArray();
  }

  /** The reply's first field, the service's proof, sent once the request is authenticated. */
  static byte[] replyHead(String proof) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    field(out, proof);
    return out.toByteArray();
  }

  /** A progress field: what a progress bar wrote, NUL bytes dropped. */
  static byte[] progressField(byte[] b, int off, int len) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(len + 3);
    out.writeBytes(PROGRESS.getBytes(StandardCharsets.US_ASCII));
    for (int i = off; i < off + len; i++) {
      if (b[i] != 0) {
        out.write(b[i]);
      }
    }
    out.write(0);
    return out.toByteArray();
  }

  /** The rest of the reply, once the command ran. */
  static byte[] replyBody(String status, String stdout, String stderr) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    field(out, status);
    field(out, stdout.replace("\0", ""));
    field(out, stderr.replace("\0", ""));
    return out.toByteArray();
  }

  private static void field(ByteArrayOutputStream out, String value) {
    if (value.indexOf('\0') >= 0) {
      throw new IllegalArgumentException("a request field cannot contain NUL: "
          + abbreviate(value));
    }
    out.writeBytes(value.getBytes(StandardCharsets.UTF_8));
    out.write(0);
  }

  private static String abbreviate(String s) {
    String shown = s.length() > 40 ? s.substring(0, 40) + "..." : s;
    return shown.replaceAll("\\p{Cntrl}", "?");
  }

  /** NUL-ended fields from a stream, never more than {@link #MAX_BYTES} in all. */
  private static final class Fields {
    private final InputStream in;
    private int total;

    Fields(InputStream in) {
      this.in = in;
    }

    String next(String what) throws IOException {
      ByteArrayOutputStream field = new ByteArrayOutputStream();
      while (true) {
        int b = in.read();
        if (b < 0) {
          throw new MalformedException("request truncated in the " + what + " field");
        }
        if (++total > MAX_BYTES) {
          throw new MalformedException("request larger than " + MAX_BYTES + " bytes");
        }
        if (b == 0) {
          return decode(field.toByteArray(), what);
        }
        field.write(b);
      }
    }

    int count(String what, int max) throws IOException {
      String text = next(what);
      if (!text.matches("[0-9]{1,4}") || Integer.parseInt(text) > max) {
        throw new MalformedException(what + " '" + abbreviate(text) + "' is not a number from 0 to "
            + max);
      }
      return Integer.parseInt(text);
    }

    private static String decode(byte[] bytes, String what) throws MalformedException {
      try {
        return StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(bytes)).toString();
      } catch (CharacterCodingException e) {
        throw new MalformedException("the " + what + " field is not UTF-8");
      }
    }
  }
}
