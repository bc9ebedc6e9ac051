/**
 * Flush policies of long-lived writable mounts: when to capture the tree ({@link
 * dev.cairn.fuse.flush.FlushPolicy}, run by {@link dev.cairn.fuse.flush.Flusher}) and how to
 * publish its digest to a ref without clobbering anyone ({@link dev.cairn.fuse.flush.RefPublisher}).
 */
package dev.cairn.fuse.flush;
