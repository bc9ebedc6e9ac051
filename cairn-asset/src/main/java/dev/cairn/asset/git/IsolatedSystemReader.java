package dev.cairn.asset.git;

import java.io.File;
import org.eclipse.jgit.lib.Config;
import org.eclipse.jgit.storage.file.FileBasedConfig;
import org.eclipse.jgit.util.FS;
import org.eclipse.jgit.util.SystemReader;

/**
 * JGit's view of the system with the user's and the system's git configuration left out. Without
 * it JGit runs the {@code git} binary ({@code git --version}, {@code git config --system}) to find
 * the system configuration, and a server would fetch with whatever {@code ~/.gitconfig} says
 * ({@code url.*.insteadOf} rewrites, proxies, credential helpers). Fetches must depend only on the
 * request. JGit reads this through a JVM-wide hook, so it is installed once per JVM; Cairn is the
 * only JGit user in its process.
 */
final class IsolatedSystemReader extends SystemReader {
  private static boolean installed;

  private final SystemReader base;

  private IsolatedSystemReader(SystemReader base) {
    this.base = base;
  }

  /** Installs the isolated reader unless it is already in place. */
  static synchronized void install() {
    if (!installed && !(SystemReader.getInstance() instanceof IsolatedSystemReader)) {
      SystemReader.setInstance(new IsolatedSystemReader(SystemReader.getInstance()));
    }
    installed = true;
  }

  private static FileBasedConfig empty(Config parent, FS fs) {
    return new FileBasedConfig(parent, (File) null, fs) {
      @Override
      public void load() {
        // nothing: no file
      }

      @Override
      public boolean isOutdated() {
        return false;
      }
    };
  }

  @Override
  public FileBasedConfig openUserConfig(Config parent, FS fs) {
    return empty(parent, fs);
  }

  @Override
  public FileBasedConfig openSystemConfig(Config parent, FS fs) {
    return empty(parent, fs);
  }

  @Override
  public FileBasedConfig openJGitConfig(Config parent, FS fs) {
    return empty(parent, fs);
  }

  @Override
  public String getHostname() {
    return base.getHostname();
  }

  @Override
  public String getenv(String variable) {
    return base.getenv(variable);
  }

  @Override
  public String getProperty(String key) {
    return base.getProperty(key);
  }

  @Override
  public long getCurrentTime() {
    return base.getCurrentTime();
  }

  @Override
  public int getTimezone(long when) {
    return base.getTimezone(when);
  }
}
