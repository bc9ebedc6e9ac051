/**
 * Read-only mounts of Merkle trees: node ids derived from content digests, Directory messages
 * decoded on demand, file reads passed through to the local store's blob files.
 */
package dev.cairn.fuse.cas;
