package dev.cairn.grpc;

import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.util.concurrent.CompletableFuture;

/** ByteStream calls as the service tests make them. */
final class ByteStreamCalls {
  private ByteStreamCalls() {}

  /**
   * A Write stream whose messages the caller sends; the answer goes to {@code result} (null if
   * the server completes without one, the status as an exception if it fails the call).
   */
  static StreamObserver<WriteRequest> openWrite(
      ByteStreamGrpc.ByteStreamStub stub, CompletableFuture<WriteResponse> result) {
    return stub.write(new StreamObserver<>() {
      @Override
      public void onNext(WriteResponse value) {
        result.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        result.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        result.complete(null);
      }
    });
  }

  /** Every byte a Read of {@code resource} from {@code offset} (at most {@code limit}) sends. */
  static byte[] readAll(
      ByteStreamGrpc.ByteStreamBlockingStub stub, String resource, long offset, long limit) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    stub.read(ReadRequest.newBuilder()
            .setResourceName(resource).setReadOffset(offset).setReadLimit(limit).build())
        .forEachRemaining(r -> out.writeBytes(r.getData().toByteArray()));
    return out.toByteArray();
  }
}
