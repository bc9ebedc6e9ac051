package dev.cairn.cli;

import dev.cairn.fuse.kernel.Errno;
import dev.cairn.fuse.kernel.FuseException;
import dev.cairn.fuse.kernel.Mounter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code cairn umount MOUNTPOINT}: ends a {@code cairn mount}. The daemon serving it sees the
 * unmount and exits; a mount whose daemon crashed or was killed is cleared the same way.
 */
@Command(
    name = "umount",
    mixinStandardHelpOptions = true,
    versionProvider = VersionProvider.class,
    description = {
      "Unmount a tree mounted with 'cairn mount'.",
      "Also clears the mount left behind by a daemon that crashed or was killed."
    })
final class UmountCommand implements Callable<Integer> {

  @ParentCommand private CairnCommand cairn;

  @Parameters(index = "0", paramLabel = "MOUNTPOINT", description = "Where the tree is mounted.")
  private Path mountpoint;

  @Option(names = {"-l", "--lazy"},
      description = "Detach at once even if files are still open (they keep working until closed"
          + " if the daemon is alive).")
  private boolean lazy;

  @Override
  public Integer call() throws IOException {
    if (!Mounter.isMounted(mountpoint)) {
      throw new IOException(mountpoint + " is not a FUSE mount point");
    }
    try {
      Mounter.unmount(mountpoint, lazy);
    } catch (FuseException e) {
      if (e.errno() == Errno.EBUSY) {
        throw new IOException(mountpoint + " is busy (a process has a file open or its working"
            + " directory there); close them, or use 'cairn umount --lazy'", e);
      }
      throw e;
    }
    return 0;
  }
}
