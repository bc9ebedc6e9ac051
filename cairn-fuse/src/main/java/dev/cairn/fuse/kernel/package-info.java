/**
 * The Linux FUSE kernel protocol spoken on {@code /dev/fuse} over the FFM API: libc bindings
 * ({@link dev.cairn.fuse.kernel.Native}), mounting ({@link dev.cairn.fuse.kernel.Mounter}), the
 * request/reply wire format and serving threads ({@link dev.cairn.fuse.kernel.FuseSession}), and
 * the node-id based interface a file system implements ({@link
 * dev.cairn.fuse.kernel.FuseFileSystem}).
 */
package dev.cairn.fuse.kernel;
