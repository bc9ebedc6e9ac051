package dev.cairn.store.disk;

import dev.cairn.core.ac.ActionCache;
import dev.cairn.core.ac.ActionKey;
import dev.cairn.core.blob.BlobNotFoundException;
import dev.cairn.core.blob.BlobStore;
import dev.cairn.core.digest.Digest;
import dev.cairn.core.digest.DigestFunction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The action cache of the embedded store. Each value is stored as a blob in the CAS, and a small
 * pointer file {@code ac/<ab>/<key-hash>} names its digest. So action results share the CAS's
 * size limit and LRU: a result nobody reads is evicted like any blob, and its pointer is removed
 * when next met. Pointers are replaced atomically (temp file, then rename). Thread-safe.
 */
public final class DiskActionCache implements ActionCache {
  private final Path acDir;
  private final BlobStore cas;

  public DiskActionCache(Path storeRoot, BlobStore cas) throws IOException {
    this.acDir = storeRoot.resolve("ac").resolve(cas.digestFunction().cliName());
    this.cas = cas;
    Files.createDirectories(acDir);
  }

  @Override
  public Optional<byte[]> get(ActionKey key) throws IOException {
    Path pointer = pointerPath(key);
    String text;
    try {
      text = Files.readString(pointer, StandardCharsets.US_ASCII).trim();
    } catch (NoSuchFileException e) {
      return Optional.empty();
    }
    Digest value;
    try {
      value = Digest.parse(text);
    } catch (IllegalArgumentException e) {
      Files.deleteIfExists(pointer); // damaged pointer: a miss, and gone
      return Optional.empty();
    }
    try {
      return Optional.of(cas.get(value));
    } catch (BlobNotFoundException e) {
      Files.deleteIfExists(pointer);
      return Optional.empty();
    }
  }

  @Override
  public void put(ActionKey key, byte[] value) throws IOException {
    Digest digest = cas.put(value);
    Path pointer = pointerPath(key);
    Files.createDirectories(pointer.getParent());
    Path temp = pointer.resolveSibling(
        pointer.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
    try {
      Files.writeString(temp, digest.toString(), StandardCharsets.US_ASCII);
      Files.move(temp, pointer, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  private Path pointerPath(ActionKey key) {
    String material = key.instanceName() + "\0" + key.actionDigest();
    String hash = DigestFunction.SHA256.digestOf(material.getBytes(StandardCharsets.UTF_8)).hash();
    return acDir.resolve(hash.substring(0, 2)).resolve(hash);
  }
}
