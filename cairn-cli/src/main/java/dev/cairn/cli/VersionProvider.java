package dev.cairn.cli;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import picocli.CommandLine.IVersionProvider;

/**
 * Answers {@code cairn --version} from {@code version.properties}, a resource Maven filters at
 * build time, so the version is right both in the shaded jar and when tests run from classes.
 */
public final class VersionProvider implements IVersionProvider {

  /** The project version, or {@code unknown} if the resource is missing. */
  public static String version() {
    try (InputStream in = VersionProvider.class.getResourceAsStream("version.properties")) {
      if (in == null) {
        return "unknown";
      }
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version", "unknown");
    } catch (IOException e) {
      return "unknown";
    }
  }

  @Override
  public String[] getVersion() {
    return new String[] {"cairn " + version()};
  }
}
