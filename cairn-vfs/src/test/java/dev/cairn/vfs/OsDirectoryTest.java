package dev.cairn.vfs;

import dev.cairn.core.blob.BlobStore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

class OsDirectoryTest extends DirectoryContractTest {
  @Override
  protected Directory newDirectory(BlobStore store, Path tmp) throws IOException {
    return OsDirectory.open(Files.createDirectories(tmp.resolve("tree")), store);
  }
}
