package dev.cairn.vfs.nio;

import dev.cairn.vfs.Node;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The attributes of a tree {@link Node}, for the {@code basic}, {@code posix} and {@code cairn}
 * views. A tree stores no times, owners or modes besides the executable bit, so times are the
 * epoch, owner and group are {@code cairn}, and permissions are derived from the node kind and
 * the executable bit. {@code fileKey} is the digest's text when the backend knows it (else null),
 * so equal contents have equal keys; {@code cairn:digest} gives the same.
 */
final class CasAttributes implements PosixFileAttributes {

  static final Set<String> VIEWS = Set.of("basic", "posix", "cairn");

  private static final FileTime EPOCH = FileTime.fromMillis(0);
  private static final Principal CAIRN = new Principal("cairn");
  private static final List<String> BASIC = List.of("size", "lastModifiedTime",
      "lastAccessTime", "creationTime", "isRegularFile", "isDirectory", "isSymbolicLink",
      "isOther", "fileKey");

  private record Principal(String getName) implements GroupPrincipal {}

  private final Node node;

  CasAttributes(Node node) {
    this.node = node;
  }

  /** {@code Files.readAttributes(path, "view:a,b")} for one of {@link #VIEWS}. */
  Map<String, Object> read(String spec) {
    int colon = spec.indexOf(':');
    String view = colon < 0 ? "basic" : spec.substring(0, colon);
    String wanted = colon < 0 ? spec : spec.substring(colon + 1);
    Map<String, Object> all = new LinkedHashMap<>();
    switch (view) {
      case "basic", "posix" -> {
        for (String name : BASIC) {
          all.put(name, basic(name));
        }
        if (view.equals("posix")) {
          all.put("permissions", permissions());
          all.put("owner", owner());
          all.put("group", group());
        }
      }
      case "cairn" -> all.put("digest", fileKey());
      default -> throw new UnsupportedOperationException("attribute view '" + view + "'");
    }
    if (wanted.equals("*")) {
      return all;
    }
    Map<String, Object> result = new HashMap<>();
    for (String name : wanted.split(",")) {
      if (!all.containsKey(name)) {
        throw new IllegalArgumentException("no attribute '" + name + "' in view '" + view + "'");
      }
      result.put(name, all.get(name));
    }
    return result;
  }

  private Object basic(String name) {
    return switch (name) {
      case "size" -> size();
      case "isRegularFile" -> isRegularFile();
      case "isDirectory" -> isDirectory();
      case "isSymbolicLink" -> isSymbolicLink();
      case "isOther" -> isOther();
      case "fileKey" -> fileKey();
      default -> EPOCH;
    };
  }

  @Override
  public FileTime lastModifiedTime() {
    return EPOCH;
  }

  @Override
  public FileTime lastAccessTime() {
    return EPOCH;
  }

  @Override
  public FileTime creationTime() {
    return EPOCH;
  }

  @Override
  public boolean isRegularFile() {
    return node instanceof Node.File;
  }

  @Override
  public boolean isDirectory() {
    return node instanceof Node.Dir;
  }

  @Override
  public boolean isSymbolicLink() {
    return node instanceof Node.Link;
  }

  @Override
  public boolean isOther() {
    return false;
  }

  /** A file's size, a symlink's target length in UTF-8 bytes (as on Unix), 0 for a directory. */
  @Override
  public long size() {
    return switch (node) {
      case Node.File f -> f.size();
      case Node.Link l -> l.target().getBytes(StandardCharsets.UTF_8).length;
      case Node.Dir d -> 0;
    };
  }

  /** The digest's text ({@code <hash>/<size>}) if known, else null. */
  @Override
  public String fileKey() {
    return switch (node) {
      case Node.File f -> f.digest().map(Object::toString).orElse(null);
      case Node.Dir d -> d.digest().map(Object::toString).orElse(null);
      case Node.Link l -> null;
    };
  }

  @Override
  public UserPrincipal owner() {
    return CAIRN;
  }

  @Override
  public GroupPrincipal group() {
    return CAIRN;
  }

  @Override
  public Set<PosixFilePermission> permissions() {
    String mode = switch (node) {
      case Node.File f -> f.executable() ? "rwxr-xr-x" : "rw-r--r--";
      case Node.Dir d -> "rwxr-xr-x";
      case Node.Link l -> "rwxrwxrwx";
    };
    return PosixFilePermissions.fromString(mode);
  }

  /**
   * The {@code basic} and {@code posix} views of one path. Only the executable bit can be set
   * (through {@link #setPermissions}); times, owner and group are not stored in a tree.
   */
  static final class View implements PosixFileAttributeView {
    private final CasPath path;

    View(CasPath path) {
      this.path = path;
    }

    @Override
    public String name() {
      return "posix";
    }

    @Override
    public PosixFileAttributes readAttributes() throws IOException {
      return new CasAttributes(path.getFileSystem().directory().stat(path.treePath()));
    }

    @Override
    public void setTimes(FileTime lastModified, FileTime lastAccess, FileTime create) {
      throw new UnsupportedOperationException(path + ": a CAS tree stores no times");
    }

    /** Sets the executable bit of a file from {@code OWNER_EXECUTE}; other bits are ignored. */
    @Override
    public void setPermissions(Set<PosixFilePermission> perms) throws IOException {
      path.getFileSystem().checkWritable();
      path.getFileSystem().directory().setExecutable(
          path.treePath(), perms.contains(PosixFilePermission.OWNER_EXECUTE));
    }

    @Override
    public UserPrincipal getOwner() {
      return CAIRN;
    }

    @Override
    public void setOwner(UserPrincipal owner) {
      throw new UnsupportedOperationException(path + ": a CAS tree stores no owners");
    }

    @Override
    public void setGroup(GroupPrincipal group) {
      throw new UnsupportedOperationException(path + ": a CAS tree stores no groups");
    }
  }
}
