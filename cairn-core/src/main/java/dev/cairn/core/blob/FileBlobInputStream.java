package dev.cairn.core.blob;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.MappedByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.util.Objects;

/**
 * A blob's bytes read from its file, from the channel's position on: the JDK's channel stream
 * (with its fast paths, e.g. {@code transferTo} a file by {@code copy_file_range}), plus {@link
 * #mapRest}, so a caller that sends the bytes on can hand out read-only views of the page cache
 * instead of copying them into arrays. Closing the stream closes the channel. Not thread-safe.
 */
public final class FileBlobInputStream extends InputStream {
  private final FileChannel channel;
  private final InputStream in;

  public FileBlobInputStream(FileChannel channel) {
    this.channel = Objects.requireNonNull(channel, "channel");
    this.in = Channels.newInputStream(channel);
  }

  /**
   * The rest of the file, from the current position, up to {@code limit} bytes, mapped read-only
   * (no copy). The mapping stays valid after {@link #close()}. Blob files are never written once
   * stored; a file truncated under the mapping by another process makes reading it throw.
   */
  public MappedByteBuffer mapRest(long limit) throws IOException {
    long position = channel.position();
    long length = Math.min(limit, Math.max(0, channel.size() - position));
    return channel.map(FileChannel.MapMode.READ_ONLY, position, length);
  }

  @Override
  public int read() throws IOException {
    return in.read();
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    return in.read(b, off, len);
  }

  @Override
  public byte[] readAllBytes() throws IOException {
    return in.readAllBytes();
  }

  @Override
  public byte[] readNBytes(int len) throws IOException {
    return in.readNBytes(len);
  }

  @Override
  public long skip(long n) throws IOException {
    return in.skip(n);
  }

  @Override
  public int available() throws IOException {
    return in.available();
  }

  @Override
  public long transferTo(OutputStream out) throws IOException {
    return in.transferTo(out);
  }

  @Override
  public void close() throws IOException {
    in.close();
  }
}
