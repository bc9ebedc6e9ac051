package dev.cairn.cli;

import dev.cairn.fuse.kernel.Mounter;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserDefinedFileAttributeView;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn capture MOUNTPOINT}: prints the root digest of a mounted tree as it is now. The
 * daemon answers the extended attribute {@code user.cairn.capture} of the mount's root with a
 * snapshot, so no socket or daemon address is needed: the mount point is the address.
 */
@Command(
    name = "capture",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Print the root digest of a mounted tree, with the changes made in it so far.",
      "Only changed files are hashed; the new blobs go to the mount's store."
    })
final class CaptureCommand implements Callable<Integer> {

  @picocli.CommandLine.ParentCommand private CairnCommand cairn;

  @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where the tree is mounted.")
  private Path mountpoint;

  @Override
  public Integer call() throws IOException {
    if (!Mounter.isMounted(mountpoint)) {
      throw new IOException(mountpoint + " is not a FUSE mount point");
    }
    UserDefinedFileAttributeView view =
        Files.getFileAttributeView(mountpoint, UserDefinedFileAttributeView.class);
    ByteBuffer buffer = ByteBuffer.allocate(256); // one read: each read is a snapshot
    try {
      view.read("cairn.capture", buffer);
    } catch (FileSystemException e) {
      throw new IOException(mountpoint + " is not a cairn mount (" + e.getReason() + ")", e);
    }
    cairn.invocation().out().println(
        new String(buffer.array(), 0, buffer.position(), StandardCharsets.US_ASCII));
    return 0;
  }
}
