package dev.cairn.vfs.nio;

import dev.cairn.vfs.Directory;
import dev.cairn.vfs.TreePath;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A writable channel on a tree file: the bytes go to a local spool file, and {@link #close()}
 * writes them into the {@link Directory} in one {@code write}, so readers never see a half-written
 * file and a failed writer changes nothing. Not thread-safe.
 */
final class SpoolChannel implements SeekableByteChannel {
  private final Directory directory;
  private final TreePath file;
  private final Path spool;
  private final FileChannel channel;

  /** A channel starting with {@code initial} (null: empty), positioned at its end if appending. */
  static SpoolChannel open(Directory directory, TreePath file, Path spoolDir, InputStream initial,
      boolean append) throws IOException {
    Path spool = Files.createTempFile(spoolDir, "nio-", "");
    try {
      if (initial != null) {
        try (initial) {
          Files.copy(initial, spool, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
      }
      FileChannel channel = FileChannel.open(spool, StandardOpenOption.READ,
          StandardOpenOption.WRITE);
      if (append) {
        channel.position(channel.size());
      }
      return new SpoolChannel(directory, file, spool, channel);
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(spool);
      throw e;
    }
  }

  private SpoolChannel(Directory directory, TreePath file, Path spool, FileChannel channel) {
    this.directory = directory;
    this.file = file;
    this.spool = spool;
    this.channel = channel;
  }

  @Override
  public int read(ByteBuffer dst) throws IOException {
    return channel.read(dst);
  }

  @Override
  public int write(ByteBuffer src) throws IOException {
    return channel.write(src);
  }

  @Override
  public long position() throws IOException {
    return channel.position();
  }

  @Override
  public SeekableByteChannel position(long newPosition) throws IOException {
    channel.position(newPosition);
    return this;
  }

  @Override
  public long size() throws IOException {
    return channel.size();
  }

  @Override
  public SeekableByteChannel truncate(long size) throws IOException {
    channel.truncate(size);
    return this;
  }

  @Override
  public boolean isOpen() {
    return channel.isOpen();
  }

  /** Writes the spooled bytes into the tree (once) and deletes the spool file. */
  @Override
  public void close() throws IOException {
    if (!channel.isOpen()) {
      return;
    }
    try {
      channel.close();
      try (InputStream in = Files.newInputStream(spool)) {
        directory.write(file, in);
      }
    } finally {
      Files.deleteIfExists(spool);
    }
  }
}
