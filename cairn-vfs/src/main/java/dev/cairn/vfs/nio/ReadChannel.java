package dev.cairn.vfs.nio;

import dev.cairn.vfs.Directory;
import dev.cairn.vfs.TreePath;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.NonWritableChannelException;
import java.nio.channels.SeekableByteChannel;

/**
 * A read-only channel over a file of a {@link Directory}, which offers streams only: reading
 * forward streams, a backward seek reopens the file and skips. Not thread-safe (channels are used
 * by one reader at a time); {@code Files.readAllBytes} needs it for the size.
 */
final class ReadChannel implements SeekableByteChannel {
  private final Directory directory;
  private final TreePath file;
  private final long size;
  private InputStream in; // positioned at streamPosition, or null
  private long streamPosition;
  private long position;
  private boolean open = true;

  ReadChannel(Directory directory, TreePath file, long size) {
    this.directory = directory;
    this.file = file;
    this.size = size;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    checkOpen();
    if (position >= size) {
      return -1;
    }
    if (in == null || streamPosition > position) {
      if (in != null) {
        in.close();
      }
      in = directory.read(file);
      streamPosition = 0;
    }
    in.skipNBytes(position - streamPosition);
    streamPosition = position;
    byte[] buffer = new byte[(int) Math.min(dst.remaining(), 64 * 1024)];
    int n = in.read(buffer);
    if (n < 0) {
      return -1;
    }
    dst.put(buffer, 0, n);
    position += n;
    streamPosition = position;
    return n;
  }

  @Override
  public int write(ByteBuffer src) {
    throw new NonWritableChannelException();
  }

  @Override
  public long position() throws IOException {
    checkOpen();
    return position;
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    checkOpen();
    if (newPosition < 0) {
      throw new IllegalArgumentException("negative position " + newPosition);
    }
    position = newPosition;
    return this;
  }

  @Override
  public long size() throws IOException {
    checkOpen();
    return size;
  }

  @Override
  public SeekableByteChannel truncate(long size) {
    throw new NonWritableChannelException();
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public void close() throws IOException {
    open = false;
    if (in != null) {
      in.close();
      in = null;
    }
  }

  private void checkOpen() throws ClosedChannelException {
    if (!open) {
      throw new ClosedChannelException();
    }
  }
}
