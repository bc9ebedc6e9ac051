package dev.cairn.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnknownFieldSet;
import io.grpc.Detachable;
import io.grpc.HasByteBuffer;
import io.grpc.KnownLength;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Write parser on streams shaped like grpc-netty's, and on plain ones. */
class WriteRequestMarshallerTest {
  private final WriteRequestMarshaller marshaller = new WriteRequestMarshaller();

  /**
   * A message stream like grpc's buffer streams: several direct buffers, shown one at a time,
   * detachable into a stream that owns them; records what happened to it.
   */
  static final class BufferStream extends InputStream implements HasByteBuffer, Detachable, KnownLength {
    final List<ByteBuffer> buffers;
    int index;
    boolean detached;
    boolean closed;
    BufferStream owner;

    BufferStream(List<ByteBuffer> buffers) {
      this.buffers = buffers;
    }

    /** The serialized message cut into direct buffers at the given offsets. */
    static BufferStream of(byte[] message, int... cuts) {
      List<ByteBuffer> parts = new ArrayList<>();
      int from = 0;
      for (int to : cuts) {
        parts.add(ByteBuffer.allocateDirect(to - from).put(message, from, to - from).flip());
        from = to;
      }
      parts.add(ByteBuffer.allocateDirect(message.length - from)
          .put(message, from, message.length - from).flip());
      return new BufferStream(parts);
    }

    private ByteBuffer current() {
      while (index < buffers.size() && !buffers.get(index).hasRemaining()) {
        index++;
      }
      return index < buffers.size() ? buffers.get(index) : null;
    }

    @Override
    public int read() {
      ByteBuffer b = current();
      return b == null ? -1 : b.get() & 0xff;
    }

    @Override
    public long skip(long n) {
      ByteBuffer b = current();
      if (b == null) {
        return 0;
      }
      int k = (int) Math.min(n, b.remaining());
      b.position(b.position() + k);
      return k;
    }

    @Override
    public int available() {
      int sum = 0;
      for (int i = index; i < buffers.size(); i++) {
        sum += buffers.get(i).remaining();
      }
      return sum;
    }

    @Override
    public boolean markSupported() {
      return true;
    }

    @Override
    public synchronized void mark(int readlimit) {
      // buffers are never dropped here, so there is nothing to keep
    }

    @Override
    public boolean byteBufferSupported() {
      return true;
    }

    @Override
    public ByteBuffer getByteBuffer() {
      ByteBuffer b = current();
      return b == null ? null : b.slice();
    }

    @Override
    public InputStream detach() {
      detached = true;
      owner = new BufferStream(buffers);
      owner.index = index;
      return owner;
    }

    @Override
    public void close() {
      closed = true;
    }
  }

  @Test
  void parse_ofADetachableBufferStream_aliasesTheData_andHoldsTheBuffersUntilClosed() {
    byte[] data = new byte[100_000];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) i;
    }
    byte[] wire = WriteRequest.newBuilder().setResourceName("uploads/u/blobs/x/1")
        .setWriteOffset(7).setData(ByteString.copyFrom(data)).setFinishWrite(true).build().toByteArray();
    // Cuts inside the header and twice inside the data: the field spans three buffers.
    BufferStream stream = BufferStream.of(wire, 5, 40_000, 70_000);

    ReceivedWrite received = marshaller.parse(stream);

    assertThat(stream.detached).isTrue();
    assertThat(received.aliased()).isTrue();
    assertThat(received.request().getWriteOffset()).isEqualTo(7);
    assertThat(received.request().getFinishWrite()).isTrue();
    assertThat(received.request().getData()).isEmpty(); // the bytes are in data()
    assertThat(received.dataSize()).isEqualTo(data.length);
    assertThat(bytesOf(received.data())).isEqualTo(data);
    assertThat(received.data()).hasSize(3).allMatch(ByteBuffer::isDirect).allMatch(ByteBuffer::isReadOnly);
    // A change to the transport's buffer shows through: the data are views, not copies.
    ByteBuffer middle = stream.buffers.get(2);
    middle.put(0, (byte) (middle.get(0) + 1));
    int header = wire.length - data.length; // data is the last field on the wire
    assertThat(bytesOf(received.data())[40_000 - header]).isEqualTo((byte) (data[40_000 - header] + 1));
    assertThat(marshaller.aliasedMessages()).isEqualTo(1);
    assertThat(marshaller.aliasedDataBytes()).isEqualTo(data.length);
    assertThat(marshaller.copiedMessages()).isZero();

    assertThat(stream.owner.closed).isFalse();
    received.close();
    assertThat(stream.owner.closed).isTrue();
  }

  @Test
  void parse_ofAPlainStream_copies_andOwnsNothing() {
    WriteRequest request = WriteRequest.newBuilder().setResourceName("r")
        .setData(ByteString.copyFromUtf8("hello")).build();

    ReceivedWrite received = marshaller.parse(new ByteArrayInputStream(request.toByteArray()));

    assertThat(received.request()).isEqualTo(request);
    assertThat(received.aliased()).isFalse();
    assertThat(marshaller.copiedMessages()).isEqualTo(1);
    assertThat(marshaller.aliasedMessages()).isZero();
    received.close(); // harmless
  }

  @Test
  void parse_ofGarbage_releasesTheDetachedBuffers_andFailsAsInternal() {
    BufferStream stream = BufferStream.of(new byte[] {(byte) 0x1a, (byte) 0xff, 1, 2, 3}, 2);

    assertThatThrownBy(() -> marshaller.parse(stream))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    assertThat(stream.detached).isTrue();
    assertThat(stream.owner.closed).isTrue();
  }

  /** The message cut into direct buffers at the given offsets. */
  private static List<ByteBuffer> cut(byte[] wire, int... cuts) {
    return BufferStream.of(wire, cuts).buffers;
  }

  private static byte[] bytesOf(List<ByteBuffer> buffers) {
    ByteString all = ByteString.EMPTY;
    for (ByteBuffer b : buffers) {
      all = all.concat(ByteString.copyFrom(b.duplicate()));
    }
    return all.toByteArray();
  }

  /** What the aliasing parse gives, as one message, to compare with protobuf's own parse. */
  private static WriteRequest parsedAliasing(List<ByteBuffer> buffers) throws Exception {
    ReceivedWrite received = WriteRequestMarshaller.parseAliasing(buffers, InputStream.nullInputStream());
    return received.request().toBuilder().setData(ByteString.copyFrom(bytesOf(received.data()))).build();
  }

  @Test
  void parseAliasing_agreesWithProtobuf_whereverTheBuffersAreCut() throws Exception {
    UnknownFieldSet unknown = UnknownFieldSet.newBuilder()
        .addField(20, UnknownFieldSet.Field.newBuilder().addVarint(-5).addFixed32(7).addFixed64(-9)
            .addLengthDelimited(ByteString.copyFromUtf8("extra")).build())
        .build();
    WriteRequest first = WriteRequest.newBuilder().setResourceName("uploads/é/blobs/00/300")
        .setWriteOffset(1L << 40).setData(ByteString.copyFrom(new byte[300])).build();
    WriteRequest second = WriteRequest.newBuilder().setWriteOffset(-1).setFinishWrite(true)
        .setData(ByteString.copyFromUtf8("the last data field wins")).setUnknownFields(unknown).build();
    // Two messages back to back are one message with every field of both (the last scalar wins).
    byte[] wire = first.toByteString().concat(second.toByteString()).toByteArray();
    WriteRequest expected = WriteRequest.parseFrom(wire);
    assertThat(expected.getData().toStringUtf8()).isEqualTo("the last data field wins");

    for (int at = 1; at < wire.length; at++) {
      assertThat(parsedAliasing(cut(wire, at))).as("cut at %d", at).isEqualTo(expected);
    }
    Random random = new Random(7);
    for (int i = 0; i < 200; i++) {
      int[] cuts = random.ints(1 + random.nextInt(6), 1, wire.length).sorted().distinct().toArray();
      assertThat(parsedAliasing(cut(wire, cuts))).isEqualTo(expected);
    }
    assertThat(parsedAliasing(cut(new byte[0]))).isEqualTo(WriteRequest.getDefaultInstance());
  }

  @Test
  void parse_ofAMessageWithAGroup_fallsBackToCopying_andReleasesTheBuffers() {
    WriteRequest withGroup = WriteRequest.newBuilder().setResourceName("r")
        .setData(ByteString.copyFromUtf8("bytes"))
        .setUnknownFields(UnknownFieldSet.newBuilder().addField(30, UnknownFieldSet.Field.newBuilder()
            .addGroup(UnknownFieldSet.newBuilder().addField(1,
                UnknownFieldSet.Field.newBuilder().addVarint(1).build()).build()).build()).build())
        .build();
    BufferStream stream = BufferStream.of(withGroup.toByteArray(), 3);

    ReceivedWrite received = marshaller.parse(stream);

    assertThat(received.request()).isEqualTo(withGroup);
    assertThat(received.aliased()).isFalse();
    assertThat(stream.owner.closed).isTrue();
    assertThat(marshaller.copiedMessages()).isEqualTo(1);
  }

  @Test
  void parse_ofATruncatedMessage_failsAsInternal_andReleasesTheBuffers() {
    byte[] wire = WriteRequest.newBuilder().setData(ByteString.copyFrom(new byte[1000])).build().toByteArray();
    BufferStream stream = BufferStream.of(java.util.Arrays.copyOf(wire, 900), 400);

    assertThatThrownBy(() -> marshaller.parse(stream))
        .isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL));
    assertThat(stream.owner.closed).isTrue();
  }

  @Test
  void stream_ofAnAliasedMessage_writesItWhole() throws Exception {
    WriteRequest request = WriteRequest.newBuilder().setResourceName("r").setWriteOffset(3)
        .setData(ByteString.copyFromUtf8("abcdef")).build();
    ReceivedWrite received = marshaller.parse(BufferStream.of(request.toByteArray(), 4, 7));
    assertThat(received.aliased()).isTrue();

    try (InputStream in = marshaller.stream(received)) {
      assertThat(WriteRequest.parseFrom(in)).isEqualTo(request);
    }
  }

  @Test
  void stream_writesTheRequest() throws Exception {
    WriteRequest request = WriteRequest.newBuilder().setResourceName("r").setWriteOffset(3).build();

    try (InputStream in = marshaller.stream(ReceivedWrite.copied(request))) {
      assertThat(WriteRequest.parseFrom(in)).isEqualTo(request);
    }
  }
}
