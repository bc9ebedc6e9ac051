package dev.cairn.fuse.kernel;

/** File-system statistics for statfs(2) ({@code struct fuse_kstatfs}). */
public record StatFs(
    long blocks, long blocksFree, long blocksAvailable, long files, long filesFree, int blockSize,
    int maxNameLength) {}
