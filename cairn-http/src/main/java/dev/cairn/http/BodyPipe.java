package dev.cairn.http;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.ArrayDeque;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * An upload's body as the {@link InputStream} {@link dev.cairn.core.blob.BlobStore#put} reads,
 * fed with Netty's buffers by the event loop while a virtual thread reads. Why it exists: the
 * body must reach the store as it arrives, never whole in memory, and a slow store must slow the
 * client down rather than fill the heap.
 *
 * <p>Bounded: once {@code highWater} bytes wait, {@link #offer} says stop, the connection stops
 * reading its socket (TCP pushes back on the client), and {@code resume} runs when the reader has
 * drained the pipe to {@code lowWater}. The buffers are Netty's (pooled, off-heap) and are
 * released as soon as they are read, or when the pipe is closed or failed.
 *
 * <p>One feeder (the event loop: {@link #offer}, {@link #end}, {@link #fail}) and one reader.
 */
final class BodyPipe extends InputStream {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<ByteBuf> chunks = new ArrayDeque<>();
  private final long highWater;
  private final long lowWater;
  private final Runnable resume;
  private long buffered; // guarded by lock
  private boolean ended; // guarded by lock
  private boolean closed; // guarded by lock
  private boolean paused; // guarded by lock
  private IOException failure; // guarded by lock

  /**
   * @param resume asks the feeder for more after {@link #offer} returned false; called from the
   *     reader's thread, so it should hand over to the feeder's
   */
  BodyPipe(long highWater, long lowWater, Runnable resume) {
    if (lowWater < 0 || lowWater >= highWater) {
      throw new IllegalArgumentException("need 0 <= lowWater < highWater, got " + lowWater + ", " + highWater);
    }
    this.highWater = highWater;
    this.lowWater = lowWater;
    this.resume = resume;
  }

  /**
   * Hands a chunk to the reader (the pipe owns it from now on).
   *
   * @return whether the feeder may send more now; if false, {@code resume} will say when
   */
  boolean offer(ByteBuf chunk) {
    lock.lock();
    try {
      if (closed || failure != null || !chunk.isReadable()) {
        chunk.release();
        return true;
      }
      chunks.add(chunk);
      buffered += chunk.readableBytes();
      changed.signalAll();
      if (buffered >= highWater) {
        paused = true;
        return false;
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /** The body is complete: the reader sees end-of-stream once it has read what is buffered. */
  void end() {
    lock.lock();
    try {
      ended = true;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** The body will never be complete (the client went away): the reader's next read throws. */
  void fail(IOException cause) {
    lock.lock();
    try {
      if (failure == null) {
        failure = cause;
      }
      releaseAll();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Bytes offered and not yet read. */
  long buffered() {
    lock.lock();
    try {
      return buffered;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    java.util.Objects.checkFromIndexSize(off, len, b.length);
    if (len == 0) {
      return 0;
    }
    boolean wake;
    int n = 0;
    lock.lock();
    try {
      while (chunks.isEmpty() && !ended && failure == null && !closed) {
        try {
          changed.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new InterruptedIOException("interrupted while waiting for the request body");
        }
      }
      if (failure != null) {
        throw new IOException(failure.getMessage(), failure);
      }
      if (closed) {
        throw new IOException("body stream closed");
      }
      if (chunks.isEmpty()) {
        return -1;
      }
      while (n < len && !chunks.isEmpty()) {
        ByteBuf head = chunks.peek();
        int take = Math.min(len - n, head.readableBytes());
        head.readBytes(b, off + n, take);
        n += take;
        if (!head.isReadable()) {
          chunks.poll().release();
        }
      }
      buffered -= n;
      wake = paused && buffered <= lowWater;
      if (wake) {
        paused = false;
      }
    } finally {
      lock.unlock();
    }
    if (wake) {
      resume.run();
    }
    return n;
  }

  @Override
  public int available() {
    return (int) Math.min(Integer.MAX_VALUE, buffered());
  }

  /** The reader is done (early or not): what is buffered and what still comes is dropped. */
  @Override
  public void close() {
    boolean wake;
    lock.lock();
    try {
      closed = true;
      releaseAll();
      wake = paused;
      paused = false;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    if (wake) {
      resume.run();
    }
  }

  private void releaseAll() {
    for (ByteBuf c; (c = chunks.poll()) != null; ) {
      c.release();
    }
    buffered = 0;
  }
}
