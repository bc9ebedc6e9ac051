/**
 * FUSE mounts of Cairn trees: the Linux FUSE kernel protocol spoken directly on /dev/fuse over
 * the FFM API (no libfuse), serving cairn-vfs trees.
 */
package dev.cairn.fuse;
