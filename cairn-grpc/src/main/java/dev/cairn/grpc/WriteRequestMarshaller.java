package dev.cairn.grpc;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.WireFormat;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.protobuf.ProtoUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;

/**
 * Parses ByteStream {@code WriteRequest}s so that their {@code data} stays in the transport's
 * buffers instead of being copied onto the heap: the default protobuf marshaller copies every
 * uploaded byte into a fresh array (a second pass over a 1 GiB upload, and a GiB of garbage).
 *
 * <p>When grpc hands over a message stream that can give up its buffers ({@link Detachable}) and
 * show them ({@link HasByteBuffer}, as grpc-netty's do), the stream is detached, and the message's
 * {@code data} field becomes a list of views of those buffers; the {@link ReceivedWrite} returned
 * owns them until it is closed. Protobuf cannot hold them itself: since 4.x neither a {@link
 * ByteString} nor {@code CodedInputStream} (even with aliasing enabled) keeps a direct buffer
 * without copying it to the heap. So this walks the message's top-level fields: {@code data} is
 * taken as views, every other field is re-encoded into a small array that protobuf parses as usual
 * (name, offset, flag, unknown fields). A message with groups, and any stream that cannot give up
 * or show its buffers, is parsed by copying, as before: the in-process transport's, and the
 * occasional grpc-netty message that holds a run of small transport buffers, which grpc (1.85)
 * merges into an array it cannot show as a ByteBuffer.
 *
 * <p>Every message this returns must reach code that closes it: an interceptor that dropped
 * messages would leak pooled buffers. Thread-safe.
 */
final class WriteRequestMarshaller implements MethodDescriptor.Marshaller<ReceivedWrite> {
  private final MethodDescriptor.Marshaller<WriteRequest> copying =
      ProtoUtils.marshaller(WriteRequest.getDefaultInstance());
  private final LongAdder aliased = new LongAdder();
  private final LongAdder aliasedBytes = new LongAdder();
  private final LongAdder copied = new LongAdder();

  /** The message back on the wire (grpc's server never sends requests; this copies). */
  @Override
  public InputStream stream(ReceivedWrite value) {
    if (!value.aliased()) {
      return copying.stream(value.request());
    }
    ByteString data = ByteString.EMPTY;
    for (ByteBuffer b : value.data()) {
      data = data.concat(ByteString.copyFrom(b.duplicate()));
    }
    return copying.stream(value.request().toBuilder().setData(data).build());
  }

  @Override
  public ReceivedWrite parse(InputStream stream) {
    if (!(stream instanceof Detachable detachable)
        || !(stream instanceof HasByteBuffer view)
        || !(stream instanceof KnownLength)
        || !view.byteBufferSupported()
        || !stream.markSupported()) {
      copied.increment();
      return ReceivedWrite.copied(copying.parse(stream));
    }
    InputStream owned = detachable.detach();
    try {
      List<ByteBuffer> buffers = views(owned);
      ReceivedWrite received = parseAliasing(buffers, owned);
      if (received == null) {
        ByteString whole = ByteString.EMPTY;
        for (ByteBuffer b : buffers) {
          whole = whole.concat(ByteString.copyFrom(b.duplicate()));
        }
        closeQuietly(owned);
        copied.increment();
        return ReceivedWrite.copied(WriteRequest.parseFrom(whole));
      }
      aliased.increment();
      aliasedBytes.add(received.dataSize());
      return received;
    } catch (IOException | RuntimeException e) {
      closeQuietly(owned);
      throw Status.INTERNAL.withDescription("cannot parse a WriteRequest: " + e.getMessage())
          .withCause(e).asRuntimeException();
    } catch (Error e) {
      closeQuietly(owned); // e.g. out of memory: the pooled buffers still go back
      throw e;
    }
  }

  /** Views of all the stream's buffers, in order; they stay valid until the stream is closed. */
  private static List<ByteBuffer> views(InputStream owned) throws IOException {
    int size = owned.available();
    // Walking the stream would close each buffer once it is passed; the mark keeps them alive
    // (until the stream is closed).
    owned.mark(size);
    HasByteBuffer view = (HasByteBuffer) owned;
    List<ByteBuffer> views = new ArrayList<>();
    for (int left = size; left > 0; ) {
      ByteBuffer piece = view.getByteBuffer();
      if (piece == null || !piece.hasRemaining()) {
        throw new IOException("the message stream ended " + left + " bytes early");
      }
      int n = piece.remaining();
      views.add(piece);
      for (int skipped = 0; skipped < n; ) {
        long s = owned.skip(n - skipped);
        if (s <= 0) {
          throw new IOException("cannot skip past a buffer of the message stream");
        }
        skipped += (int) s;
      }
      left -= n;
    }
    return views;
  }

  /**
   * The message in {@code buffers}, its {@code data} views of them, owned by {@code owner}; null
   * if it holds a group (which only the copying parser handles). The buffers' positions are left
   * as they were.
   */
  static ReceivedWrite parseAliasing(List<ByteBuffer> buffers, InputStream owner) throws IOException {
    FieldReader in = new FieldReader(buffers);
    ByteArrayOutputStream others = new ByteArrayOutputStream(256);
    List<ByteBuffer> data = List.of();
    while (!in.atEnd()) {
      long tag = in.readVarint();
      if (tag >>> 32 != 0 || WireFormat.getTagFieldNumber((int) tag) == 0) {
        throw new InvalidProtocolBufferException("invalid tag " + tag + " in a WriteRequest");
      }
      int fieldNumber = WireFormat.getTagFieldNumber((int) tag);
      int wireType = WireFormat.getTagWireType((int) tag);
      if (fieldNumber == WriteRequest.DATA_FIELD_NUMBER
          && wireType == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
        data = in.view(in.readLength()); // a repeated scalar field: the last one wins
        continue;
      }
      writeVarint(others, tag);
      switch (wireType) {
        case WireFormat.WIRETYPE_VARINT -> writeVarint(others, in.readVarint());
        case WireFormat.WIRETYPE_FIXED64 -> in.copy(8, others);
        case WireFormat.WIRETYPE_FIXED32 -> in.copy(4, others);
        case WireFormat.WIRETYPE_LENGTH_DELIMITED -> {
          int length = in.readLength();
          writeVarint(others, length);
          in.copy(length, others);
        }
        default -> {
          return null;
        }
      }
    }
    return new ReceivedWrite(WriteRequest.parseFrom(others.toByteArray()), data, owner);
  }

  private static void writeVarint(ByteArrayOutputStream out, long value) {
    while ((value & ~0x7fL) != 0) {
      out.write((int) (value & 0x7f) | 0x80);
      value >>>= 7;
    }
    out.write((int) value);
  }

  /** Reads protobuf wire primitives across a sequence of buffers, through duplicates of them. */
  private static final class FieldReader {
    private final ByteBuffer[] buffers;
    private int index;

    FieldReader(List<ByteBuffer> buffers) {
      this.buffers = new ByteBuffer[buffers.size()];
      for (int i = 0; i < this.buffers.length; i++) {
        this.buffers[i] = buffers.get(i).duplicate();
      }
    }

    boolean atEnd() {
      while (index < buffers.length && !buffers[index].hasRemaining()) {
        index++;
      }
      return index == buffers.length;
    }

    private ByteBuffer current() throws InvalidProtocolBufferException {
      if (atEnd()) {
        throw new InvalidProtocolBufferException("the WriteRequest ends inside a field");
      }
      return buffers[index];
    }

    long readVarint() throws InvalidProtocolBufferException {
      long value = 0;
      for (int shift = 0; shift < 64; shift += 7) {
        int b = current().get() & 0xff;
        value |= (long) (b & 0x7f) << shift;
        if (b < 0x80) {
          return value;
        }
      }
      throw new InvalidProtocolBufferException("a varint of the WriteRequest is longer than 10 bytes");
    }

    int readLength() throws InvalidProtocolBufferException {
      long length = readVarint();
      if (length < 0 || length > Integer.MAX_VALUE) {
        throw new InvalidProtocolBufferException("a field of the WriteRequest has length " + length);
      }
      return (int) length;
    }

    /** The next n bytes as read-only views of the buffers (no copy). */
    List<ByteBuffer> view(int n) throws InvalidProtocolBufferException {
      List<ByteBuffer> parts = new ArrayList<>();
      for (int left = n; left > 0; ) {
        ByteBuffer b = current();
        int k = Math.min(left, b.remaining());
        parts.add(b.slice(b.position(), k).asReadOnlyBuffer());
        b.position(b.position() + k);
        left -= k;
      }
      return parts;
    }

    /** Copies the next n bytes to out (small fields only: names, unknown fields). */
    void copy(int n, ByteArrayOutputStream out) throws InvalidProtocolBufferException {
      for (int left = n; left > 0; ) {
        ByteBuffer b = current();
        int k = Math.min(left, b.remaining());
        byte[] chunk = new byte[k];
        b.get(chunk);
        out.writeBytes(chunk);
        left -= k;
      }
    }
  }

  private static void closeQuietly(InputStream owned) {
    try {
      owned.close();
    } catch (IOException ignored) {
      // the caller has a better failure to report, or none
    }
  }

  /** Messages parsed as views of the transport's buffers, since this marshaller was made. */
  long aliasedMessages() {
    return aliased.sum();
  }

  /** Bytes of {@code data} those messages carried, all left in the transport's buffers. */
  long aliasedDataBytes() {
    return aliasedBytes.sum();
  }

  /** Messages parsed by copying (their stream could not give up its buffers, or held a group). */
  long copiedMessages() {
    return copied.sum();
  }
}
