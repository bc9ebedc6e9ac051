/** Writable (copy-on-write) mounts: an {@code OverlayDirectory} served by path. */
package dev.cairn.fuse.overlay;
