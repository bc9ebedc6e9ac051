package dev.cairn.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenBlobFilesTest {
  @TempDir Path dir;
  private final List<FileChannel> opened = new ArrayList<>();

  private Digest digest(int i) {
    return DigestFunction.SHA256.digestOf(new byte[] {(byte) i, (byte) (i >> 8)});
  }

  private FileChannel channel(int i) throws IOException {
    Path file = dir.resolve("f" + i + "-" + opened.size());
    Files.write(file, new byte[] {(byte) i});
    FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
    opened.add(ch);
    return ch;
  }

  @Test
  void offeredFile_isFound_untilTheStoreRemovesItsBlob_whichClosesIt() throws IOException {
    OpenBlobFiles files = new OpenBlobFiles(4);
    FileChannel ch = channel(1);
    assertThat(files.find(digest(1))).isNull();
    assertThat(files.offer(digest(1), ch, files.stamp())).isTrue();
    assertThat(files.find(digest(1))).isSameAs(ch);
    files.removed(digest(1));
    assertThat(ch.isOpen()).isFalse();
    assertThat(files.find(digest(1))).isNull();
    assertThat(files.size()).isZero();
    assertThat(files.hits()).isEqualTo(1);
    assertThat(files.misses()).isEqualTo(2);
    assertThat(files.closedByStore()).isEqualTo(1);
  }

  @Test
  void fileOfABlobRemovedSinceTheStamp_isRefused_andLeftToTheCaller() throws IOException {
    OpenBlobFiles files = new OpenBlobFiles(4);
    long stamp = files.stamp();
    files.removed(digest(9)); // any blob: the index lookup after the stamp may be stale
    FileChannel ch = channel(1);
    assertThat(files.offer(digest(1), ch, stamp)).isFalse();
    assertThat(ch.isOpen()).isTrue();
    assertThat(files.find(digest(1))).isNull();
    assertThat(files.offer(digest(1), ch, files.stamp())).isTrue();
    FileChannel second = channel(1);
    assertThat(files.offer(digest(1), second, files.stamp())).as("already cached").isFalse();
    assertThat(second.isOpen()).isTrue();
  }

  @Test
  void whenFull_theClockReplacesAnUnusedFile_andKeepsTheUsedOnes() throws IOException {
    OpenBlobFiles files = new OpenBlobFiles(2);
    FileChannel a = channel(1);
    FileChannel b = channel(2);
    files.offer(digest(1), a, files.stamp());
    files.offer(digest(2), b, files.stamp());
    files.find(digest(1)); // a is used; b is not
    files.find(digest(2));
    files.find(digest(1));
    FileChannel c = channel(3);
    assertThat(files.offer(digest(3), c, files.stamp())).isTrue();
    assertThat(files.size()).isEqualTo(2);
    assertThat(files.replaced()).isEqualTo(1);
    // Both were used, so the hand cleared both bits and replaced the first it met again: a.
    assertThat(a.isOpen()).isFalse();
    assertThat(b.isOpen()).isTrue();
    FileChannel d = channel(4);
    files.find(digest(3));
    assertThat(files.offer(digest(4), d, files.stamp())).isTrue();
    assertThat(b.isOpen()).as("unused since the hand passed").isFalse();
    assertThat(files.find(digest(3))).isSameAs(c);
    assertThat(files.find(digest(4))).isSameAs(d);
  }

  @Test
  void manyOffers_neverKeepMoreThanTheCapacityOpen() throws IOException {
    OpenBlobFiles files = new OpenBlobFiles(8);
    for (int i = 0; i < 100; i++) {
      files.offer(digest(i), channel(i), files.stamp());
      if (i % 3 == 0) {
        files.find(digest(i / 2));
      }
      if (i % 7 == 0) {
        files.removed(digest(i - 1));
      }
    }
    assertThat(files.size()).isLessThanOrEqualTo(8);
    assertThat(opened.stream().filter(FileChannel::isOpen).count()).isEqualTo(files.size());
    files.close();
    assertThat(opened).noneMatch(FileChannel::isOpen);
    assertThat(files.offer(digest(1000), channel(0), files.stamp())).isFalse();
  }

  @Test
  void discard_closesTheEntryOnlyIfItStillHoldsThatChannel() throws IOException {
    OpenBlobFiles files = new OpenBlobFiles(4);
    FileChannel a = channel(1);
    files.offer(digest(1), a, files.stamp());
    FileChannel stranger = channel(1);
    files.discard(digest(1), stranger);
    assertThat(a.isOpen()).isTrue();
    assertThat(stranger.isOpen()).isTrue();
    files.discard(digest(1), a);
    assertThat(a.isOpen()).isFalse();
    assertThat(files.find(digest(1))).isNull();
  }

  @Test
  void closingWhileOthersRead_givesThemClosedChannelException_neverOtherBytes() throws Exception {
    OpenBlobFiles files = new OpenBlobFiles(64);
    AtomicBoolean stop = new AtomicBoolean();
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    List<Thread> readers = new ArrayList<>();
    for (int t = 0; t < 3; t++) {
      readers.add(Thread.ofPlatform().start(() -> {
        ByteBuffer buf = ByteBuffer.allocateDirect(2);
        while (!stop.get()) {
          for (int i = 0; i < 16; i++) {
            FileChannel ch = files.find(digest(i));
            if (ch == null) {
              continue;
            }
            buf.clear();
            try {
              int n = ch.read(buf, 0);
              if (n != 1 || buf.get(0) != (byte) i) {
                wrong.add("blob " + i + ": read " + n + " bytes, first " + buf.get(0));
              }
            } catch (ClosedChannelException e) {
              // closed by a removal under us: the caller falls back to opening the file
            } catch (IOException e) {
              wrong.add("blob " + i + ": " + e);
            }
          }
        }
      }));
    }
    for (int round = 0; round < 2000; round++) {
      int i = round % 16;
      FileChannel ch = channel(i);
      if (!files.offer(digest(i), ch, files.stamp())) {
        ch.close();
      }
      files.removed(digest((round * 7) % 16));
    }
    stop.set(true);
    for (Thread t : readers) {
      t.join();
    }
    files.close();
    assertThat(wrong).isEmpty();
    assertThat(opened).noneMatch(FileChannel::isOpen);
  }
}
