package dev.cairn.vfs.nio;

import java.nio.file.FileStore;
import java.nio.file.attribute.FileAttributeView;
import java.nio.file.attribute.FileStoreAttributeView;

/**
 * The one file store of a {@link CasFileSystem}. It exists because {@code Files.getFileStore}
 * must answer something; a content-addressed store has no meaningful capacity, so it reports 0.
 */
final class CasFileStore extends FileStore {
  private final CasFileSystem fs;

  CasFileStore(CasFileSystem fs) {
    this.fs = fs;
  }

  @Override
  public String name() {
    return "cas:" + fs.openedAt();
  }

  @Override
  public String type() {
    return "cas";
  }

  @Override
  public boolean isReadOnly() {
    return fs.isReadOnly();
  }

  @Override
  public long getTotalSpace() {
    return 0;
  }

  @Override
  public long getUsableSpace() {
    return 0;
  }

  @Override
  public long getUnallocatedSpace() {
    return 0;
  }

  @Override
  public boolean supportsFileAttributeView(Class<? extends FileAttributeView> type) {
    return type.isAssignableFrom(CasAttributes.View.class);
  }

  @Override
  public boolean supportsFileAttributeView(String name) {
    return CasAttributes.VIEWS.contains(name);
  }

  @Override
  public <V extends FileStoreAttributeView> V getFileStoreAttributeView(Class<V> type) {
    return null;
  }

  @Override
  public Object getAttribute(String attribute) {
    throw new UnsupportedOperationException("file store attribute '" + attribute + "'");
  }
}
