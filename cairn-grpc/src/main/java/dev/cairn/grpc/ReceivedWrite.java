package dev.cairn.grpc;

import com.google.bytestream.ByteStreamProto.WriteRequest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * One ByteStream {@code WriteRequest} as the server received it. Its bytes may still be in the
 * transport's buffers (see {@link WriteRequestMarshaller}): then {@code data} are views of them,
 * valid until {@link #close()}, and {@code request}'s own data field is empty. Whoever takes the
 * message must close it once it no longer reads {@code data}, and must not keep {@code data}.
 *
 * @param request the message's other fields (resource name, offset, finish flag), and its data
 *     too when it was parsed by copying
 * @param data the bytes of the message's {@code data} field, in order, read-only
 * @param transportBuffers the detached transport stream that owns the bytes {@code data} views,
 *     or null when nothing is borrowed
 */
record ReceivedWrite(WriteRequest request, List<ByteBuffer> data, InputStream transportBuffers)
    implements AutoCloseable {

  /** A message that owns its bytes (parsed by copying, or built in memory). */
  static ReceivedWrite copied(WriteRequest request) {
    return new ReceivedWrite(request, request.getData().asReadOnlyByteBufferList(), null);
  }

  /** Whether {@code data} are views of transport buffers. */
  boolean aliased() {
    return transportBuffers != null;
  }

  /** The number of bytes in {@code data}. */
  long dataSize() {
    long size = 0;
    for (ByteBuffer b : data) {
      size += b.remaining();
    }
    return size;
  }

  /** Gives the transport buffers back; closing twice is harmless (grpc's streams ignore it). */
  @Override
  public void close() {
    if (transportBuffers != null) {
      try {
        transportBuffers.close();
      } catch (IOException ignored) {
        // grpc's buffer streams do not throw on close; nothing to save either way
      }
    }
  }
}
