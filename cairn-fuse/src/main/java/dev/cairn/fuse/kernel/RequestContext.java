package dev.cairn.fuse.kernel;

/** Who made a request: the calling process's uid, gid and pid, from the request header. */
public record RequestContext(int uid, int gid, int pid) {}
