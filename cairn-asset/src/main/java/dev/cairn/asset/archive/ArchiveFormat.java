package dev.cairn.asset.archive;

/** The archive formats FetchDirectory unpacks. */
public enum ArchiveFormat {
  TAR, TAR_GZ, TAR_XZ, TAR_BZ2, TAR_ZST, ZIP
}
